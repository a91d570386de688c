"""kzoo: a Keras 3 model zoo of Transformers that ship to TFLite and ONNX Runtime.

Example:
```python
import kzoo
print(kzoo.__version__)
```
"""

__version__ = "0.1.0"
