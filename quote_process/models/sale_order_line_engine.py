from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import (
    float_compare,
    float_round,
    format_amount,
    formatLang,
    ormcache,
)

from ..tools.formatting import format_number
from ..tools.pricing_engine import EngineRuleIndex, category_ids
from .sale_order import QUOTATION_STATES
from .sale_order_line import ENGINE_FIELDS

# Key of the cursor's cache under which the pricelist prices of the lines are
# kept while they are being priced: the engine and Odoo's own computation of the
# unit price and the discount read one evaluation of the pricelist per line.
PRICELIST_MEMO_KEY = "quote_process_pricelist_prices"


class EngineSteps(dict):
    """The engine's steps of a line as the engine builds them: JSON values
    only (dicts with string keys, lists, strings, numbers, booleans), so
    stored as they are, without the JSON round trip that Odoo's Json field
    makes to normalise a value each time it is assigned."""


class EngineStepsField(fields.Json):
    """The engine's steps, read as the cache holds them: not copied on every
    read (a 1,000-line quote with 70 rules per line holds 70,000 steps, and
    Odoo's Json field copies them each time a line is read or saved, twice
    more when the line is created), nor normalised again when the engine
    computed them (``EngineSteps``). The value is read-only: build a new one
    to change it."""

    def convert_to_record(self, value, record):
        return False if value is None else value

    def convert_to_cache(self, value, record, validate=True):
        # a value of the cache, or the engine's: already normalised
        if not validate or isinstance(value, EngineSteps):
            return value or None
        return super().convert_to_cache(value, record, validate=validate)


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    engine_price_unit = fields.Float(
        string="Engine Price",
        compute="_compute_engine_price",
        store=True,
        readonly=True,
        precompute=True,
        copy=False,
        min_display_digits="Product Price",
        help="The unit price the pricing engine gives this line, in the quote's "
        "currency: the pricelist price, then every pricing rule that matches. "
        "New lines get it as their unit price.",
    )
    engine_steps = EngineStepsField(
        compute="_compute_engine_price",
        store=True,
        readonly=True,
        precompute=True,
        copy=False,
        # Read apart from the line's other fields: the order's totals read
        # every line, the steps are read for one line at a time.
        prefetch="engine_steps",
        help="Technical: the steps of the engine's computation, from which the "
        "explanation is written in the reader's language.",
    )
    engine_trace = fields.Text(
        string="Price Explanation",
        compute="_compute_engine_trace",
        compute_sudo=True,
        help="How the engine reached its price, step by step: the pricelist price, "
        "then each pricing rule that applied and its effect.",
    )
    is_engine_priced = fields.Boolean(
        compute="_compute_is_engine_priced",
        store=True,
        help="Technical: whether the pricing engine prices this line. Sections, "
        "notes, down payments, delivery charges, rewards and discount lines are "
        "priced by their own logic.",
    )

    # ------------------------------------------------------------------
    # Computes and searches
    # ------------------------------------------------------------------

    def _engine_priced_depends(self):
        """The fields that ``_is_engine_priced`` reads, those of the apps that
        extend its hooks included; a module that overrides it to read other
        fields adds them here."""
        depends = [
            "product_id",
            "product_type",
            "display_type",
            "is_downpayment",
            "is_expense",
            "combo_item_id",
            "extra_tax_data",
            # the company's discount product (_is_discount_line), when the
            # line changes company
            "company_id",
            # not company_id.sale_discount_product_id: setting it (the discount
            # wizard does, the first time) would recompute every line of the
            # company; res.company.write recomputes the lines of the products
            # concerned
        ]
        depends += [
            name for name in ("is_delivery", "is_reward_line") if name in self._fields
        ]
        if "reward_id" in self._fields:
            depends.append("reward_id.reward_type")
        return depends

    @api.depends(lambda self: self._engine_priced_depends())
    def _compute_is_engine_priced(self):
        # Stored: the order's computes (deviation, approval, discount) read it
        # on every line at each save; the edit of one line of a large quote
        # must not read every line's product again.
        for line in self:
            line.is_engine_priced = line._is_engine_priced()

    def _engine_price_depends(self):
        """The fields the engine price follows: the line's and its order's
        engine inputs, and whatever else Odoo's unit price follows on this
        database (an app that prices its lines its own way, such as
        event_sale's tickets, adds them to ``_compute_price_unit``)."""
        depends = [
            "product_id",
            "product_uom_id",
            "product_uom_qty",
            "product_no_variant_attribute_value_ids",
            "display_type",
            "is_downpayment",
            "is_expense",
            "combo_item_id",
            "extra_tax_data",
            "order_id.company_id",
            "order_id.currency_id",
            "order_id.date_order",
            "order_id.fiscal_position_id",
            "order_id.partner_id",
            "order_id.payment_term_id",
            "order_id.preferred_payment_method_line_id",
            "order_id.pricelist_id",
            "order_id.team_id",
            "order_id.opportunity_id",
        ]
        price_depends, _context = self._fields["price_unit"].get_depends(self)
        depends += [
            name
            for name in price_depends
            if name.split(".")[0] not in ENGINE_FIELDS and name not in depends
        ]
        return depends

    @api.model
    @ormcache()
    def _engine_order_fields(self):
        """The fields of the order that the engine price follows."""
        return frozenset(
            name.split(".")[1]
            for name in self._engine_price_depends()
            if name.startswith("order_id.")
        )

    @api.depends(lambda self: self._engine_price_depends())
    def _compute_engine_price(self):
        """The engine: the pricelist price Odoo would charge, then each matching
        pricing rule in sequence, until one says to stop, then the best promise
        made to the customer.

        Other addons extend the engine by overriding this method or
        ``_get_engine_price``. Rules are loaded once for the whole batch and
        matched in memory.
        """
        engine_lines = self.filtered(
            lambda line: line.order_id and line.is_engine_priced
        )
        others = self - engine_lines
        others.engine_price_unit = 0.0
        others.engine_steps = False
        final = engine_lines.filtered(lambda line: line._is_engine_price_final())
        for line in final:
            line.engine_price_unit = line._origin.engine_price_unit
            line.engine_steps = line._origin.engine_steps
        engine_lines -= final
        if not engine_lines:
            return
        engine = engine_lines._prepare_engine()
        for line in engine_lines:
            price, steps = line._get_engine_price(engine)
            line.engine_price_unit = price
            line.engine_steps = EngineSteps(
                inputs=line._get_engine_inputs(), steps=steps
            )

    @api.depends("engine_steps", "engine_price_unit", "currency_id")
    @api.depends_context("lang")
    def _compute_engine_trace(self):
        for line, texts in self._get_engine_trace_texts().items():
            line.engine_trace = "\n".join(texts) if texts else False

    def _get_engine_trace_texts(self):
        """The engine's explanation of each line's price: its steps in words,
        in the reader's language, then the engine price; empty for a line the
        engine did not price. Only the pricing rules and pricelists the reader
        may read are named.

        :return: {line: [text, ...]}"""
        steps_by_line = {line: line._get_engine_step_list() for line in self}
        rule_ids = set()
        pricelist_ids = set()
        for steps in steps_by_line.values():
            for step in steps:
                if step.get("kind") == "rule":
                    rule_ids.add(step["rule_id"])
                elif step.get("kind") == "pricelist" and step.get("pricelist_id"):
                    pricelist_ids.add(step["pricelist_id"])
        rules = (
            self.env["quote.pricing.rule"]
            .with_context(active_test=False)
            .browse(rule_ids)
            .exists()
            ._filtered_access("read")
        )
        rule_names = {rule.id: rule.name for rule in rules}
        pricelists = (
            self.env["product.pricelist"]
            .browse(pricelist_ids)
            .exists()
            ._filtered_access("read")
        )
        pricelist_names = {
            pricelist.id: pricelist.display_name for pricelist in pricelists
        }
        texts_by_line = {}
        for line, steps in steps_by_line.items():
            if not steps:
                texts_by_line[line] = []
                continue
            currency = line.currency_id or line.company_id.currency_id
            texts = [
                line._get_engine_step_text(step, currency, rule_names, pricelist_names)
                for step in line._get_engine_steps_with_effect(steps, currency)
            ]
            texts.append(
                self.env._(
                    "Engine price: %(price)s",
                    price=format_amount(self.env, line.engine_price_unit, currency),
                )
            )
            texts_by_line[line] = texts
        return texts_by_line

    @api.model
    def _get_engine_steps_with_effect(self, steps, currency):
        """The steps, each rule step with its ``effect``: the change of the
        price from the step before (rule steps are stored without it; those
        stored by earlier versions carry it)."""
        previous = 0.0
        for step in steps:
            if step.get("kind") == "rule" and "effect" not in step:
                step = {**step, "effect": currency.round(step["price"] - previous)}
            previous = step.get("price", previous)
            yield step

    @api.model
    @api.readonly
    def get_engine_trace_display(self, values):
        """The explanation of a quote line's engine price for the price
        widget, asked when the user opens it (the explanation is not sent with
        every line the form loads or changes): from the line's values as the
        form holds them, saved or not.

        :param dict values: the line's ``engine_steps``, ``engine_price_unit``,
            ``currency_id`` and ``company_id``
        :return: list of texts, one per step, then the engine price"""
        company = self.env["res.company"].browse(values.get("company_id")).exists()
        currency = self.env["res.currency"].browse(values.get("currency_id")).exists()
        line = self.new(
            {
                "engine_steps": values.get("engine_steps") or {},
                "engine_price_unit": values.get("engine_price_unit") or 0.0,
                "company_id": (company & self.env.companies).id,
                "currency_id": currency.id,
            }
        )
        try:
            return line._get_engine_trace_texts()[line]
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise UserError(
                self.env._(
                    "These engine steps cannot be explained: %(error)s", error=error
                )
            ) from error

    @api.depends("engine_price_unit")
    def _compute_price_unit(self):
        # Odoo recomputes the prices that were not set by hand, and calls
        # _reset_price_unit for them: the engine's lines get the engine price.
        # On a confirmed order the price is locked: a change of the order (its
        # date moved on confirmation...) never reprices a line whose engine
        # price is final, even one whose price came with the line at creation.
        locked = self.filtered(
            lambda line: (
                line.order_id
                and line._origin
                and line.is_engine_priced
                and line._is_engine_price_final()
            )
        )
        return super(SaleOrderLine, self - locked)._compute_price_unit()

    def _compute_discount(self):
        # Odoo's discount; a line that a rule or a promise prices, at its
        # computed price, gets the discount its pricelist shows, on which its
        # unit price is based.
        result = super()._compute_discount()
        force = self.env.context.get("force_price_recomputation")
        for line in self:
            if (
                line.order_id
                and line.is_engine_priced
                and line._has_engine_adjustment()
                and (force or not line._has_engine_manual_price())
            ):
                line.discount = line._get_engine_line_prices(adjusted=True)[1]
        return result

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _is_engine_priced(self):
        """Whether the engine prices this line.

        Lines that Odoo or other apps price with their own logic are left alone:
        sections and notes, down payments, delivery charges, loyalty rewards, the
        discount wizard's lines, combo products and their components, re-invoiced
        expenses and lines without a product.
        """
        self.ensure_one()
        return bool(
            self.product_id
            and not self.display_type
            and not self.is_downpayment
            and not self.is_expense
            and not self.combo_item_id
            and self.product_type != "combo"
            and not self._is_delivery()
            and not self._is_global_discount()
            and not self._is_discount_line()
            and not ("is_reward_line" in self._fields and self.is_reward_line)
        )

    def _get_engine_inputs(self):
        """What the line itself contributes to its engine price."""
        self.ensure_one()
        return [self.product_id.id, self.product_uom_id.id, self.product_uom_qty]

    def _is_engine_price_final(self):
        """On a confirmed order, the engine price only follows the line's own
        changes (product, unit, quantity): a change of the order (its date moved
        on confirmation, its payment terms...) does not reprice it."""
        self.ensure_one()
        if self.order_id.state in QUOTATION_STATES:
            return False
        return self._has_engine_steps_of_its_inputs()

    def _has_engine_steps_of_its_inputs(self):
        """Whether the stored engine price was computed for the line's current
        product, unit and quantity."""
        self.ensure_one()
        # The stored value: in a form, the line being edited is a new record
        # whose own value is being computed.
        origin = self._origin
        previous = origin._get_engine_steps_value() if origin else False
        return bool(previous) and previous.get("inputs") == self._get_engine_inputs()

    def _get_engine_price_kept(self):
        """The lines whose engine fields a write of their order, which leaves
        the lines as they are and leaves or makes the order confirmed, would
        compute again to the same values: the engine's lines priced for their
        current product, unit and quantity (``_is_engine_price_final``), the
        other lines without engine price."""
        return self.filtered(
            lambda line: (
                line._has_engine_steps_of_its_inputs()
                if line.order_id and line.is_engine_priced
                else not (line.engine_price_unit or line.engine_steps)
            )
        )

    @api.model
    @ormcache("fnames")
    def _get_engine_only_dependents(self, fnames):
        """The fields that a write of the order's ``fnames`` recomputes only
        through the engine fields of its lines: (names on the lines, names on
        the order). When the engine fields stay, so do these."""
        triggers = self.env.registry._field_triggers
        engine = {self._fields[fname] for fname in ENGINE_FIELDS}

        def dependents(fields, skipped):
            found, todo = set(), list(fields)
            while todo:
                for deps in triggers.get(todo.pop(), {}).values():
                    for dep in deps:
                        if dep not in found and dep not in skipped:
                            found.add(dep)
                            todo.append(dep)
            return found

        order_fields = self.env["sale.order"]._fields
        written = [order_fields[fname] for fname in fnames if fname in order_fields]
        others = dependents(written, engine)
        # The line's own fields that its engine fields follow (whether the
        # engine prices it...): when the write changes one, the engine price
        # is computed again.
        inputs = {self._fields["is_engine_priced"]} | {
            field
            for field, paths in triggers.items()
            if field.model_name == self._name and engine & paths.get((), set())
        }
        if inputs & others:
            return (), ()
        only = (dependents(engine, ()) | engine) - others
        return (
            tuple(field.name for field in only if field.model_name == self._name),
            tuple(field.name for field in only if field.model_name == "sale.order"),
        )

    def _recompute_engine_price(self):
        """Recompute the engine price now, e.g. after the rules changed; lines at
        the engine price follow it."""
        self._clear_engine_pricelist_memo()
        for fname in ENGINE_FIELDS:
            self.env.add_to_compute(self._fields[fname], self)
        self._recompute_recordset(ENGINE_FIELDS)
        self.modified(ENGINE_FIELDS)

    def _prepare_engine(self):
        """What the engine needs for a batch of lines, loaded once."""
        # Stored computed fields are computed as superuser: every salesperson
        # gets the rules' prices, but only the rules of the lines' companies.
        companies = self.order_id.company_id
        orders = self.order_id
        return {
            "rules": self.env["quote.pricing.rule"]._get_engine_rules(companies),
            "promises": self.env["quote.promise"]._get_engine_promises(
                companies,
                set(orders.partner_id.commercial_partner_id.ids),
                set(orders.opportunity_id.ids),
            ),
            "orders": {},
            "rates": {},
            "digits": self.env["decimal.precision"].precision_get("Product Price"),
        }

    def _get_engine_order_values(self, engine):
        """Order-level inputs of the engine, computed once per order: the
        order's own (``sale.order._get_engine_order_values``), the conversion
        rate of the company's currency, the rules and the price promises whose
        order-level conditions hold."""
        self.ensure_one()
        order = self.order_id
        values = engine["orders"].get(order)
        if values is None:
            values = order._get_engine_order_values()
            company = order.company_id
            rate_key = (company.id, values["currency"].id, values["date"])
            if rate_key not in engine["rates"]:
                engine["rates"][rate_key] = self.env[
                    "res.currency"
                ]._get_conversion_rate(
                    company.currency_id, values["currency"], company, values["date"]
                )
            values["rate"] = engine["rates"][rate_key]
            values["rules"] = EngineRuleIndex(
                engine["rules"].get(company.id, ()), values
            )
            values["promises"] = [
                promise
                for promise in engine.get("promises", {}).get(company.id, ())
                if promise.promise_type != "payment_terms"
                and promise.matches_order(values)
            ]
            engine["orders"][order] = values
        return values

    def _get_pricelist_price(self):
        return self._get_engine_pricelist_memo("price", super()._get_pricelist_price)

    def _get_pricelist_price_before_discount(self):
        return self._get_engine_pricelist_memo(
            "before_discount", super()._get_pricelist_price_before_discount
        )

    def _get_engine_pricelist_memo_key(self):
        """What the pricelist price of the line depends on."""
        return (
            self.product_id.id,
            self.product_uom_id.id,
            self.product_uom_qty,
            self.product_no_variant_attribute_value_ids.ids,
            self.pricelist_item_id.id,
            self.order_id.pricelist_id.id,
            self.currency_id.id,
            self._get_order_date(),
            self.order_id.fiscal_position_id.id,
            self.env.company.id,
        )

    def _get_engine_pricelist_memo(self, name, evaluate):
        """The pricelist price ``name`` of the line, evaluated once while the
        line is priced (the engine, then Odoo's unit price and discount), as
        long as nothing it depends on changes."""
        self.ensure_one()
        memo = self.env.cr.cache.setdefault(PRICELIST_MEMO_KEY, {})
        key = self._get_engine_pricelist_memo_key()
        entry = memo.get(self.id)
        if entry is None or entry[0] != key:
            entry = memo[self.id] = (key, {})
        prices = entry[1]
        if name not in prices:
            prices[name] = evaluate()
        return prices[name]

    @api.model
    def _clear_engine_pricelist_memo(self):
        """Forget the pricelist prices evaluated so far: the next pricing of a
        line asks the pricelist again (a write, a recomputation of prices)."""
        self.env.cr.cache.pop(PRICELIST_MEMO_KEY, None)

    def _get_engine_pricelist_discount(self):
        """The discount Odoo shows on the line for its pricelist rule, as
        ``_compute_discount`` computes it; 0 when the pricelist shows none."""
        self.ensure_one()
        line = self.with_company(self.company_id)
        return line._get_engine_pricelist_memo(
            "discount", line._evaluate_engine_pricelist_discount
        )

    def _evaluate_engine_pricelist_discount(self):
        """``_get_engine_pricelist_discount`` evaluated."""
        line = self
        if not (
            line.order_id.pricelist_id
            and line.product_uom_id
            and line.pricelist_item_id._show_discount()
        ):
            return 0.0
        base_price = line._get_pricelist_price_before_discount()
        if not base_price:
            return 0.0
        discount = (base_price - line._get_pricelist_price()) / base_price * 100
        if (discount > 0 and base_price > 0) or (discount < 0 and base_price < 0):
            return discount
        return 0.0

    def _get_engine_display_price(self):
        """The unit price Odoo itself gives the line (``_reset_price_unit``):
        the price its pricelist displays, adapted to the taxes of the fiscal
        position."""
        self.ensure_one()
        line = self.with_company(self.company_id)
        return line._get_engine_pricelist_memo(
            "display_price", line._evaluate_engine_display_price
        )

    def _evaluate_engine_display_price(self):
        """``_get_engine_display_price`` evaluated."""
        line = self
        product_taxes = line.product_id.taxes_id._filter_taxes_by_company(
            line.company_id
        )
        return line.product_id._get_tax_included_unit_price_from_price(
            line._get_display_price(),
            product_taxes=product_taxes,
            fiscal_position=line.order_id.fiscal_position_id,
        )

    def _get_engine_base_price(self):
        """The price Odoo itself charges for the line with its pricelist: its
        unit price less the discount it shows."""
        self.ensure_one()
        discount = self._get_engine_pricelist_discount()
        return self._get_engine_display_price() * (1 - discount / 100)

    def _get_engine_price(self, engine):
        """Price one line.

        :return: (engine unit price, steps) where steps is a list of dicts that
            ``_compute_engine_trace`` turns into words, of JSON values only
            (stored as they are: no tuple, no key that is not a string).
        """
        self.ensure_one()
        order_values = self._get_engine_order_values(engine)
        price = self._get_engine_base_price()
        steps = [
            {
                "kind": "pricelist",
                "pricelist_id": self.order_id.pricelist_id.id,
                "price": price,
            }
        ]
        product = self.product_id
        quantity = self.product_uom_qty
        if self.product_uom_id and self.product_uom_id != product.uom_id:
            quantity = self.product_uom_id._compute_quantity(
                quantity, product.uom_id, raise_if_failure=False
            )
        categ_ids = category_ids(product.categ_id.parent_path)
        rules = order_values["rules"].matching_rules(
            product.id, product.product_tmpl_id.id, categ_ids, quantity
        )
        digits = max(order_values["currency"].decimal_places, engine["digits"])
        other_uom = bool(self.product_uom_id and self.product_uom_id != product.uom_id)
        rate = order_values["rate"]
        for rule in rules:
            if rule.adjustment_type == "percent":
                new_price = price * (1 + rule.adjustment_value / 100)
            else:
                amount = rule.adjustment_value * rate
                if other_uom:
                    amount = product.uom_id._compute_price(amount, self.product_uom_id)
                new_price = (
                    price + amount if rule.adjustment_type == "fixed_amount" else amount
                )
            new_price = max(float_round(new_price, precision_digits=digits), 0.0)
            # Ids and amounts only: the words, and the effect of the step (from
            # the price before it), are composed on reading.
            step = {
                "kind": "rule",
                "rule_id": rule.id,
                "adjustment": [rule.adjustment_type, rule.adjustment_value],
                "price": new_price,
            }
            steps.append(step)
            price = new_price
            if rule.stop_processing:
                step["stop"] = True
                break
        promise_step = self._get_engine_promise_step(
            order_values, price, categ_ids, quantity, digits
        )
        if promise_step:
            steps.append(promise_step)
            price = promise_step["price"]
        return price, steps

    def _get_engine_promise_step(
        self, order_values, price, categ_ids, quantity, digits
    ):
        """The promise that gives the customer the best price on this line, as
        an engine step, or None when no promise applies or none lowers the
        price."""
        product = self.product_id
        best = None
        for promise in order_values["promises"]:
            if not promise.matches_line(product.id, categ_ids, quantity):
                continue
            if promise.promise_type == "percent":
                new_price = price * (1 - promise.discount_percent / 100)
            else:
                new_price = promise.fixed_price * order_values["rate"]
                if self.product_uom_id and self.product_uom_id != product.uom_id:
                    new_price = product.uom_id._compute_price(
                        new_price, self.product_uom_id
                    )
            new_price = max(float_round(new_price, precision_digits=digits), 0.0)
            if float_compare(new_price, price, precision_digits=digits) >= 0:
                continue
            if best is None or new_price < best["price"]:
                best = {
                    "kind": "promise",
                    "promise_id": promise.id,
                    "name": promise.name,
                    "lead_name": promise.lead_name,
                    "promise_type": promise.promise_type,
                    "discount_percent": promise.discount_percent,
                    "fixed_price": promise.fixed_price,
                    "effect": float_round(new_price - price, precision_digits=digits),
                    "price": new_price,
                }
        return best

    def _get_engine_step_text(self, step, currency, rule_names, pricelist_names):
        """One step of the engine, in words, in the reader's language."""
        _ = self.env._
        price = format_amount(self.env, step["price"], currency)
        if step["kind"] == "pricelist":
            if step.get("pricelist_id"):
                name = pricelist_names.get(step["pricelist_id"]) or _("(deleted)")
                return _("Pricelist “%(name)s”: %(price)s", name=name, price=price)
            return _("Sales price: %(price)s", price=price)
        if step["kind"] == "promise":
            return self._get_engine_promise_step_text(step, currency, price)
        if step["kind"] != "rule":
            # Steps added by other addons carry their own text.
            return step.get("text") or price
        company_currency = self.company_id.currency_id or currency
        # Steps stored before the trace was compacted name their rule and
        # adjustment in separate keys.
        kind, value = step.get("adjustment") or (
            step["adjustment_type"],
            step["adjustment_value"],
        )
        if kind == "percent":
            sign = "+" if value > 0 else "-"
            adjustment = f"{sign}{format_number(self.env, abs(value))}%"
        elif kind == "fixed_amount":
            adjustment = _(
                "%(amount)s per unit",
                amount=self._format_engine_signed(value, company_currency),
            )
        else:
            adjustment = _(
                "fixed price %(amount)s",
                amount=format_amount(self.env, value, company_currency),
            )
        text = _(
            "Rule “%(name)s” (%(adjustment)s): %(effect)s → %(price)s",
            name=rule_names.get(step["rule_id"]) or step.get("name") or _("(deleted)"),
            adjustment=adjustment,
            effect=self._format_engine_signed(step["effect"], currency),
            price=price,
        )
        if step.get("stop"):
            text += " " + _("(later rules skipped)")
        return text

    def _get_engine_promise_step_text(self, step, currency, price):
        _ = self.env._
        if step["promise_type"] == "percent":
            adjustment = f"-{format_number(self.env, step['discount_percent'])}%"
        else:
            adjustment = _(
                "fixed price %(amount)s",
                amount=format_amount(
                    self.env,
                    step["fixed_price"],
                    self.company_id.currency_id or currency,
                ),
            )
        if step.get("lead_name"):
            return _(
                "Promise “%(name)s” of opportunity “%(lead)s” (%(adjustment)s): "
                "%(effect)s → %(price)s",
                name=step["name"],
                lead=step["lead_name"],
                adjustment=adjustment,
                effect=self._format_engine_signed(step["effect"], currency),
                price=price,
            )
        return _(
            "Promise “%(name)s” (%(adjustment)s): %(effect)s → %(price)s",
            name=step["name"],
            adjustment=adjustment,
            effect=self._format_engine_signed(step["effect"], currency),
            price=price,
        )

    def _get_engine_reset_description(self):
        """The line's current price in words, for the chatter."""
        self.ensure_one()
        currency = self.currency_id or self.company_id.currency_id
        price = format_amount(self.env, self.price_unit, currency)
        if not self.discount:
            return price
        return self.env._(
            "%(price)s less %(discount)s%%",
            price=price,
            discount=formatLang(self.env, self.discount, dp="Discount"),
        )

    def _format_engine_signed(self, amount, currency):
        sign = "-" if currency.compare_amounts(amount, 0.0) < 0 else "+"
        return f"{sign} {format_amount(self.env, abs(amount), currency)}"

    # The engine price becomes the line's price.
    def _has_engine_adjustment(self):
        """Whether a pricing rule or a promise changed the line's price: without
        one, the line has the unit price and the discount Odoo computes."""
        self.ensure_one()
        return len(self._get_engine_step_list()) > 1

    def _get_engine_steps_value(self):
        """The line's ``engine_steps``, computed if needed, as the cache holds
        it: not copied as reading the field copies it, so not to be changed.
        The engine reads it several times per line."""
        self.ensure_one()
        field = self._fields["engine_steps"]
        cache = field._get_cache(self.env)
        if self.id not in cache or self.env.is_to_compute(field, self):
            # Computed with the engine price (the same compute), or read.
            self.mapped("engine_price_unit")
            if self.id not in cache or self.env.is_to_compute(field, self):
                return self.engine_steps
        return cache[self.id] or False

    def _get_engine_step_list(self):
        """The steps of the line's engine price (read only)."""
        return (self._get_engine_steps_value() or {}).get("steps") or []

    def _get_engine_line_prices(self, adjusted=None):
        """The unit price and the discount that give the line its engine price.

        The discount is the one the pricelist shows, as in Odoo; when a rule or
        a promise applies, the unit price is set so that the price after that
        discount is the engine price. ``adjusted``: whether one applies, when
        the caller knows it."""
        self.ensure_one()
        discount = self._get_engine_pricelist_discount()
        if adjusted is None:
            adjusted = self._has_engine_adjustment()
        if not adjusted:
            return self._get_engine_display_price(), discount
        if float_compare(discount, 100.0, precision_digits=2) >= 0:
            return self.engine_price_unit, 0.0
        digits = self.env["decimal.precision"].precision_get("Product Price")
        price = float_round(
            self.engine_price_unit / (1 - discount / 100), precision_digits=digits
        )
        return price, discount

    def _has_engine_manual_price(self):
        """Whether the salesperson set the unit price by hand (Odoo's own test:
        the price differs from the last computed one)."""
        self.ensure_one()
        currency = (
            self.currency_id
            or self.company_id.currency_id
            or self.env.company.currency_id
        )
        return bool(
            currency.compare_amounts(self.technical_price_unit, self.price_unit)
        )

    def _reset_price_unit(self):
        super()._reset_price_unit()
        if not self.is_engine_priced or not self._has_engine_adjustment():
            return
        price = self._get_engine_line_prices(adjusted=True)[0]
        self.update({"price_unit": price, "technical_price_unit": price})
