// Runs every server audit of graphql-http against the URL given and prints the results as JSON.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: result.id, name: result.name, status: result.status, reason: result.reason });
}
process.stdout.write(JSON.stringify(results));
