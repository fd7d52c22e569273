"""Transformer models from their packaged weights to ONNX (onnx.helper, no
torch): the MiniLM sentence encoder (minilm.py). The graphs are written the
way exporters write them (positions from Shape -> Range, the attention
mask as an additive bias), since that is what users' models contain."""
