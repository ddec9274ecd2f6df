"""Code out of a model's Markdown: instruct models wrap code in fences even when told not to, and
write an explanation after it."""

import re
from collections.abc import Generator
from contextlib import closing

# A Markdown fence line as CommonMark reads it: up to three spaces, three or more backticks and
# an optional info string (a language name). A fence indented further, as in a docstring, is code.
_FENCE_LINE = re.compile(r" {0,3}(?P<run>`{3,})(?P<info>[^`]*)")
# The start of a line that may still turn out to be a fence line, held back until it ends.
_MAYBE_FENCE_LINE = re.compile(r" {0,3}(`{3,}[^`]*|`*)")


def unfenced(answer: str) -> str:
    """The code of a whole answer (Fences)."""
    fences = Fences()
    return fences.feed(answer) + fences.end()


class Fences:
    """Takes the Markdown fences out of a model's answer, fed in pieces of any size.

    The code is what the first fence encloses or, when the answer opens no fence, the answer
    itself. The code ends at a closing fence, on its own line or glued to the last line, and
    what follows it, an explanation, is dropped. A fence that closes a longer one and a fence
    with a language inside a block are code, as in CommonMark: a string may hold them.
    """

    def __init__(self) -> None:
        self.line = ""  # the line being read, without its end
        self.sent = 0  # how much of `line` has been let through
        self.blank = ""  # blank lines before the first code: dropped if a fence follows
        self.fence = 0  # the opening fence's backticks; 0 while no fence is open
        self.started = False  # whether the answer had anything but blank lines
        self.closed = False

    def feed(self, chunk: str) -> str:
        """The code that `chunk` completes: what can no longer turn out to be part of a fence."""
        text = self.line + chunk
        out = []
        start = 0
        while not self.closed and (end := text.find("\n", start) + 1):
            self.line = text[start:end]
            out.append(self._whole_line())
            start = end
        self.line = "" if self.closed else text[start:]
        if not self.closed and not _MAYBE_FENCE_LINE.fullmatch(self.line):
            # Backticks and blanks at the end may still become a glued fence: they wait.
            out.append(self._let_through(self.line.rstrip(" \t\r`")))
        return "".join(out)

    def end(self) -> str:
        """The rest of the code, once the answer is complete."""
        return "" if self.closed else self._whole_line()

    def _whole_line(self) -> str:
        line = self.line
        body = line.rstrip("\r\n")
        fence = _FENCE_LINE.fullmatch(body)
        if fence:
            run, tagged = len(fence["run"]), bool(fence["info"].strip())
            if not self.fence and (tagged or not self.started):
                self.fence, self.started, self.blank = run, True, ""
                return self._next_line("")
            # A bare fence after code that no fence opened closes it all the same.
            if not self.fence or (not tagged and run >= self.fence):
                self.closed = True
                return self._next_line("")
        # Instruct models often glue the closing fence to the last line of code; the line's own
        # backticks before it, as a template string's, stay.
        code = body.rstrip(" \t").removesuffix("`" * max(self.fence, 3))
        if code.strip() and len(code) < len(body.rstrip(" \t")):
            self.closed = True
            return self._next_line(self._let_through(code.rstrip(" \t")))
        return self._next_line(self._let_through(line))

    def _next_line(self, text: str) -> str:
        self.line, self.sent = "", 0
        return text

    def _let_through(self, head: str) -> str:
        """What of `head`, the certain start of the current line, was not let through yet."""
        piece = head[self.sent :]
        self.sent = max(self.sent, len(head))
        if not self.started:
            if not piece.strip():
                self.blank += piece
                return ""
            self.started = True
            piece, self.blank = self.blank + piece, ""
        return piece


def without_fences(chunks: Generator[str]) -> Generator[str]:
    fences = Fences()
    with closing(chunks):
        for chunk in chunks:
            text = fences.feed(chunk)
            if text:
                yield text
            if fences.closed:
                return
        text = fences.end()
        if text:
            yield text
