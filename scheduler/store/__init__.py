"""What rota keeps: the `Store` interface (`base`) and its implementations
(`folder`: the files beside a roster). The other modules here are the
folder store's file formats."""
