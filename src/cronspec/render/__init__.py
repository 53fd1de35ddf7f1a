"""One module per target; each renders a `Plan` to text and touches nothing else."""
