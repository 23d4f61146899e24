"""One module per simulated departmental system: generate(ctx) and advance(ctx, first, last)."""
