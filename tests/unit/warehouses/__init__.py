"""Unit tests of the warehouse slice (domain, service over fakes, servicer mapping)."""
