"""Checks of the values clients send to the addon's fields, before they reach
the database: a wrong type, an unknown choice or a number the column cannot
hold gets a ValidationError that says what to enter, instead of a database
error."""

import math

from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.models import BaseModel

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# Larger amounts or quantities are typing mistakes, and lose precision.
FLOAT_MAX = 1e15


def check_client_values(model, vals):
    """Raise a ValidationError for a value of ``vals`` that the field of
    ``model`` defined by quote_process cannot take."""
    env = model.env
    for fname, value in vals.items():
        field = model._fields.get(fname)
        if (
            field is None
            or field._module != "quote_process"
            or value is False
            or value is None
            or isinstance(value, BaseModel)
        ):
            continue
        label = field._description_string(env)
        if field.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int | float):
                _raise(env, label, value, env._("a whole number"))
            if not (math.isfinite(value) and INT_MIN <= value <= INT_MAX):
                _raise(
                    env,
                    label,
                    value,
                    env._(
                        "a whole number between %(min)s and %(max)s",
                        min=INT_MIN,
                        max=INT_MAX,
                    ),
                )
        elif field.type in ("float", "monetary"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                _raise(env, label, value, env._("a number"))
            if not (math.isfinite(value) and abs(value) <= FLOAT_MAX):
                _raise(
                    env,
                    label,
                    value,
                    env._(
                        "a number between -%(max)s and %(max)s", max=f"{FLOAT_MAX:.0e}"
                    ),
                )
        elif field.type == "selection" and field.store:
            allowed = [key for key, _label in field._description_selection(env)]
            if value not in allowed:
                _raise(
                    env,
                    label,
                    value,
                    env._("one of: %(values)s", values=", ".join(allowed)),
                )
        elif field.type == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                _raise(
                    env,
                    label,
                    value,
                    env._("the id of a record of %(model)s", model=field.comodel_name),
                )
            if not env[field.comodel_name].sudo().browse(value).exists():
                _raise(
                    env,
                    label,
                    value,
                    env._(
                        "the id of an existing record of %(model)s",
                        model=field.comodel_name,
                    ),
                )
        elif field.type in ("date", "datetime"):
            try:
                field.convert_to_cache(value, model)
            except (TypeError, ValueError):
                _raise(env, label, value, env._("a date such as 2026-12-31"))
        elif field.type in ("char", "text", "html") and not isinstance(value, str):
            _raise(env, label, value, env._("a text"))


def _raise(env, label, value, expected):
    raise ValidationError(
        env._(
            "%(field)s cannot be %(value)s. Enter %(expected)s.",
            field=label,
            value=repr(value)[:50],
            expected=expected,
        )
    )


class QuoteProcessInputCheckMixin(models.AbstractModel):
    """Checks the client values of every create and write with
    ``check_client_values``."""

    _name = "quote_process.input.check.mixin"
    _description = "Quote Process: checks of client values"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_client_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_client_values(self, vals)
        return super().write(vals)
