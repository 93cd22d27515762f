// One bounded load round for bench/peer.py: POSTs one GraphQL request over N keep-alive
// connections for a fixed time with autocannon, checks every answer against the expected body,
// and prints one JSON line: answers, seconds, p50/p99 ms (exact, from every response time; the
// histogram autocannon reports rounds to whole milliseconds), non-2xx, errors, mismatches.
// Usage: node load.js <settings.json>: url, headers, body, expectBody, connections, seconds and
// timesFile (where every response time in ms is written, for percentiles across rounds).
'use strict'

const fs = require('fs')
const autocannon = require('autocannon')

const settings = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const times = []
const started = process.hrtime.bigint()

const instance = autocannon({
  url: settings.url,
  method: 'POST',
  headers: settings.headers,
  body: settings.body,
  connections: settings.connections,
  pipelining: 1,
  duration: settings.seconds,
  timeout: 30,
  expectBody: settings.expectBody
}, (error, result) => {
  if (error) {
    console.error(error)
    process.exit(1)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  fs.writeFileSync(settings.timesFile, JSON.stringify(times))
  times.sort((a, b) => a - b)
  const at = (q) => (times.length ? times[Math.min(times.length - 1, Math.floor(times.length * q))] : null)
  console.log(JSON.stringify({
    answers: times.length,
    seconds,
    p50: at(0.5),
    p99: at(0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches
  }))
})

instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode >= 200 && statusCode < 300) times.push(responseTime)
})
