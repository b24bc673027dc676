"""Text that someone typed, or that another system sent, made inert in Slack.

Slack reads ``<…>`` as mentions, channel pings and links and ``&`` as the start of an
entity; escaping the three characters shows such text as text (Slack's formatting rules).
"""

from __future__ import annotations


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` become entities: the text can never ping a channel, mention
    someone or plant a link.

    >>> escape("<!channel> & <https://evil.example|click>")
    '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
