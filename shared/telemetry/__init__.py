"""What a process tells its operators: JSON logs, Prometheus metrics, the health endpoint, and traces."""
