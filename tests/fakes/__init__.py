"""In-process fakes of the external services rota talks to, for tests."""
