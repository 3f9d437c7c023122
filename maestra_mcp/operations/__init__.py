"""Operating the service: health and readiness probes, metrics, structured logs."""
