"""One exception type for every problem a user can fix.

Its message is a single line that names what was wrong and what to do about it. The CLI prints
it and exits non-zero; the API turns it into a 4xx; callbacks log it and leave the page as it was.
"""


class LatentdashError(Exception):
    """A user-facing error with a one-line message (problem + fix)."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
