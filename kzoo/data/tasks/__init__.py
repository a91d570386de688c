"""The built-in tasks; importing this package registers them (see `kzoo.data.registry`).

Example:
```python
import kzoo.data.tasks  # registers numbers_en_de, language_id, faker_ner, stdlib_topics, ...
```
"""

from kzoo.data.tasks import (
    digits,  # noqa: F401
    language_identification,  # noqa: F401
    language_modeling,  # noqa: F401
    ner,  # noqa: F401
    python_stdlib,  # noqa: F401
    translation,  # noqa: F401
)
