"""``runpipeline``: the pipeline worker process."""
