"""``{{ value|pretty_json }}``: session-log parameters and results as people read JSON.

The logs store JSON; Django's ``pprint`` would show Python reprs (``True``,
``None``, single quotes), which is not what the assistant sent or received.
"""

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON, non-ASCII kept as is (brand names); autoescaped by the template."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
