"""How many tokens a text is to a model, near enough to budget a prompt: no tokenizer is shared
by every provider, so completions and chat both count characters."""

import math

# Code BPE tokenizers (Llama, Qwen, StarCoder, Codestral) average 3 to 4 characters a token, and
# prose nearer 4. Counting 3 errs on the side of a prompt that fits: overflowing the context
# window is an error, leaving a few tokens unused is not.
CHARS_PER_TOKEN = 3


def count_tokens(text: str) -> int:
    """Roughly how many model tokens `text` is: one per CHARS_PER_TOKEN characters."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
