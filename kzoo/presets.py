"""Named model configurations: small ones that train on the bundled tasks, and published ones.

Plain data, one place. `parameters` is the exact parameter count of the model
`kzoo.create(name)` builds with its default arguments; tests/test_presets.py builds
every preset and checks it, so `kzoo list` can print it without building anything.

Example:
```python
from kzoo.presets import PRESETS
PRESETS["transformer_small"]["config"]["num_layers"]   # 3
```
"""

_TINY_VOCABULARY = 1000

PRESETS = {
    # Encoder (BERT-style) tasks.
    "classifier_tiny": {
        "family": "TextClassifier",
        "description": "2-layer, width-64 BERT-style encoder with a classification head",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=2, num_heads=2, hidden_dim=64,
                       intermediate_dim=128, max_sequence_length=128, num_classes=2),
        "parameters": 143_682,
    },
    "classifier_small": {
        "family": "TextClassifier",
        "description": "4-layer, width-128 BERT-style encoder with a classification head",
        "config": dict(vocabulary_size=8000, num_layers=4, num_heads=4, hidden_dim=128,
                       intermediate_dim=512, max_sequence_length=128, num_classes=2),
        "parameters": 1_850_754,
    },
    "tagger_tiny": {
        "family": "TokenTagger",
        "description": "2-layer, width-64 BERT-style encoder with a per-token tagging head",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=2, num_heads=2, hidden_dim=64,
                       intermediate_dim=128, max_sequence_length=128, num_tags=9),
        "parameters": 144_137,
    },
    "tagger_small": {
        "family": "TokenTagger",
        "description": "4-layer, width-128 BERT-style encoder with a per-token tagging head",
        "config": dict(vocabulary_size=8000, num_layers=4, num_heads=4, hidden_dim=128,
                       intermediate_dim=512, max_sequence_length=128, num_tags=9),
        "parameters": 1_851_657,
    },
    "mlm_tiny": {
        "family": "MaskedLM",
        "description": "2-layer, width-64 BERT-style encoder with a masked-LM head",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=2, num_heads=2, hidden_dim=64,
                       intermediate_dim=128, max_sequence_length=128),
        "parameters": 148_840,
    },
    "mlm_small": {
        "family": "MaskedLM",
        "description": "4-layer, width-128 BERT-style encoder with a masked-LM head",
        "config": dict(vocabulary_size=8000, num_layers=4, num_heads=4, hidden_dim=128,
                       intermediate_dim=512, max_sequence_length=128),
        "parameters": 1_875_264,
    },
    "bert_base": {
        "family": "TextClassifier",
        "description": "BERT-base uncased (Devlin et al., 2019): 109,482,240 backbone parameters",
        "config": dict(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                       intermediate_dim=3072, max_sequence_length=512, num_classes=2),
        "parameters": 109_483_778,
    },
    # Decoder-only (GPT-style).
    "causal_lm_tiny": {
        "family": "CausalLM",
        "description": "2-layer, width-64 GPT-style decoder",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=2, num_heads=2, hidden_dim=64,
                       intermediate_dim=256, max_sequence_length=128),
        "parameters": 172_288,
    },
    "causal_lm_small": {
        "family": "CausalLM",
        "description": "4-layer, width-192 GPT-style decoder",
        "config": dict(vocabulary_size=8000, num_layers=4, num_heads=4, hidden_dim=192,
                       intermediate_dim=768, max_sequence_length=256),
        "parameters": 3_364_992,
    },
    "gpt2_small": {
        "family": "CausalLM",
        "description": "GPT-2 small (Radford et al., 2019): 124,439,808 parameters",
        "config": dict(vocabulary_size=50257, num_layers=12, num_heads=12, hidden_dim=768,
                       intermediate_dim=3072, max_sequence_length=1024),
        "parameters": 124_439_808,
    },
    # Encoder-decoder Transformer.
    "transformer_tiny": {
        "family": "TransformerSeq2Seq",
        "description": "2+2-layer, width-64 encoder-decoder Transformer",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=2, num_heads=4, hidden_dim=64,
                       intermediate_dim=128, max_sequence_length=64),
        "parameters": 231_424,
    },
    "transformer_small": {
        "family": "TransformerSeq2Seq",
        "description": "3+3-layer, width-128 encoder-decoder Transformer (the quickstart translator)",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, num_layers=3, num_heads=4, hidden_dim=128,
                       intermediate_dim=512, max_sequence_length=64),
        "parameters": 1_516_544,
    },
    "transformer_base": {
        "family": "TransformerSeq2Seq",
        "description": "Transformer base (Vaswani et al., 2017, Table 3), 37,000-token shared vocabulary",
        "config": dict(vocabulary_size=37000, num_layers=6, num_heads=8, hidden_dim=512,
                       intermediate_dim=2048, max_sequence_length=256),
        "parameters": 63_082_496,
    },
    "transformer_big": {
        "family": "TransformerSeq2Seq",
        "description": "Transformer big (Vaswani et al., 2017, Table 3), 37,000-token shared vocabulary",
        "config": dict(vocabulary_size=37000, num_layers=6, num_heads=16, hidden_dim=1024,
                       intermediate_dim=4096, max_sequence_length=256),
        "parameters": 214_245_376,
    },
    # GRU encoder-decoder with additive attention.
    "gru_tiny": {
        "family": "GRUSeq2Seq",
        "description": "GRU encoder-decoder, width 64, additive attention",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, embedding_dim=64, hidden_dim=64, max_sequence_length=64),
        "parameters": 300_904,
    },
    "gru_small": {
        "family": "GRUSeq2Seq",
        "description": "GRU encoder-decoder, width 256, additive attention",
        "config": dict(vocabulary_size=_TINY_VOCABULARY, embedding_dim=128, hidden_dim=256, max_sequence_length=64),
        "parameters": 1_927_656,
    },
    # Vision Transformer.
    "vit_tiny": {
        "family": "ViTClassifier",
        "description": "2-layer, width-64 ViT for 8x8 grey images (digits), 2x2 patches",
        "config": dict(image_shape=(8, 8, 1), patch_size=2, num_layers=2, num_heads=2, hidden_dim=64,
                       intermediate_dim=128, num_classes=10),
        "parameters": 69_194,
    },
    "vit_small": {
        "family": "ViTClassifier",
        "description": "4-layer, width-128 ViT for 8x8 grey images (digits), 2x2 patches",
        "config": dict(image_shape=(8, 8, 1), patch_size=2, num_layers=4, num_heads=4, hidden_dim=128,
                       intermediate_dim=256, num_classes=10),
        "parameters": 534_410,
    },
    "vit_b16": {
        "family": "ViTClassifier",
        "description": "ViT-B/16 (Dosovitskiy et al., 2021), 224x224 RGB, 1000 classes",
        "config": dict(image_shape=(224, 224, 3), patch_size=16, num_layers=12, num_heads=12, hidden_dim=768,
                       intermediate_dim=3072, num_classes=1000),
        "parameters": 86_567_656,
    },
}
