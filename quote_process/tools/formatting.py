"""Numbers as a reader of the quote process sees them."""

from odoo.tools import formatLang, get_lang


def format_number(env, value, signed=False):
    """A number in the reader's language, without useless zeros: 5, 2.5, 7.14.

    ``signed`` puts a sign before every non-zero number: +3, -7.14.
    """
    text = formatLang(env, abs(value) if signed else value, digits=2)
    decimal_point = get_lang(env).decimal_point
    if decimal_point and decimal_point in text:
        text = text.rstrip("0").rstrip(decimal_point)
    if signed and round(value, 2):
        text = ("-" if value < 0 else "+") + text
    return text
