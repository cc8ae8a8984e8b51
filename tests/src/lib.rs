//! Reference mock server for the Rostro API. Filled in by the mock-server issue.
