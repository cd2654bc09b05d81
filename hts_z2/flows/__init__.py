"""jobflow jobs and Makers (reference data; screening and training follow)."""
