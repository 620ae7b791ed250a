"""placeholder"""

MISTAKES = []
VARIANTS = []
