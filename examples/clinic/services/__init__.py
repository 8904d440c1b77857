"""What the clinic does with its models."""
