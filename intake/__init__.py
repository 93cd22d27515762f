"""Intake from the core leasing system: files of clients, users, contracts, items, schedules,
policies, invoices, payments and documents, keyed by the core system's external ids.

`intake.kinds` declares what each kind's columns are and how they are checked (the API's own
checks: models.identifiers, resolvers.validation, models.finance); `intake.files` reads CSV,
XLSX and JSON Lines in chunks; `intake.run` validates and writes them in batches, each batch one
transaction whose statements do not grow with its rows. `leasehub import` and the staff mutation
`adminImport` both call `intake.run`.
"""
