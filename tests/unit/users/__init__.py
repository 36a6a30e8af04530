"""Unit tests of the user slice (domain, roles, passwords, service over fakes, servicer mapping)."""
