"""Channel pruning on Torch-Pruning's dependency graph: groups, plans, sensitivity, the iterative loop."""
