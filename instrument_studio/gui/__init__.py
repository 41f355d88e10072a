"""The Qt layer: shows what the core computes and forwards what the user asks for."""
