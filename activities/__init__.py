"""Thin Durable activity functions: each unpacks its input and calls shared/."""
