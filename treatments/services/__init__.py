"""Writes. Each service owns its transaction and raises mesoclinic.errors.DomainError subclasses."""
