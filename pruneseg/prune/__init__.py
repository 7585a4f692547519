"""Channel pruning's primitives, on Torch-Pruning's dependency graph: groups (pruning, replaying a
history), importance, MACs, measurements, plans, guards, trade-off points, speed-up predictors and the
speed-up search. The jobs that use them live above: the sensitivity analysis in ``pruneseg.analyze``,
the iterative loop in ``pruneseg.prune_loop``."""
