"""Use cases: ``handler(uow, clock, ...) -> result``; the Unit of Work owns the transaction."""
