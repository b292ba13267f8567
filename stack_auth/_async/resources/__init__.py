"""One module per API area: each method names its path, its parameters and its model, nothing more."""
