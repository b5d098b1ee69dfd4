"""The neutral core every layer may use: settings, data types, text helpers, the store
adapter and model loaders. Imports nothing else of this project."""
