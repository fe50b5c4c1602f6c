"""Bastion's model factory: data, training, export, evaluation, bundling."""
