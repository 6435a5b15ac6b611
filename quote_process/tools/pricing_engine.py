"""The pricing engine's matching, in plain Python: no ORM, no query.

Pricing rules and promises are reduced to plain values once per batch of quote
lines (``EngineRule``, ``EnginePromise``), and orders to a dict of their
engine inputs (``sale.order._get_engine_order_values``). The same tests decide
which rules and promises price a line and which offers a customer is shown.
"""

from collections import defaultdict


def category_ids(parent_path):
    """The ids of a product category and all its parents, from its
    ``parent_path`` ("1/4/9/")."""
    return [int(categ_id) for categ_id in (parent_path or "").split("/") if categ_id]


class EngineRule:
    """A pricing rule reduced to plain values, so that a batch of quote lines is
    matched against all rules in memory, without a query per line or per rule."""

    __slots__ = (
        "adjustment_type",
        "adjustment_value",
        "categ_id",
        "date_end",
        "date_start",
        "id",
        "min_quantity",
        "partner_id",
        "payment_method_line_id",
        "payment_term_id",
        "position",
        "pricelist_id",
        "product_id",
        "product_tmpl_id",
        "stop_processing",
        "tag_ids",
        "team_id",
    )

    def __init__(self, values, position):
        """``values``: the rule's values (``quote.pricing.rule.
        _read_engine_rule_values``, the commercial partner of its customer as
        ``partner_id``); ``position``: its rank in evaluation order."""
        self.id = values["id"]
        self.position = position
        self.product_id = values["product_id"]
        self.product_tmpl_id = values["product_tmpl_id"]
        self.categ_id = values["categ_id"]
        self.partner_id = values["partner_id"]
        self.tag_ids = values["tag_ids"]
        self.pricelist_id = values["pricelist_id"]
        self.payment_term_id = values["payment_term_id"]
        self.payment_method_line_id = values["payment_method_line_id"]
        self.team_id = values["team_id"]
        self.min_quantity = values["min_quantity"]
        self.date_start = values["date_start"]
        self.date_end = values["date_end"]
        self.adjustment_type = values["adjustment_type"]
        self.adjustment_value = values["adjustment_value"]
        self.stop_processing = values["stop_processing"]

    def matches_customer(self, order_values):
        """Whether the conditions on the customer hold for an order (customer,
        tags, pricelist, team, dates): the rule is then an offer the customer
        may be shown. ``order_values`` is the dict built by
        ``sale.order._get_engine_order_values``."""
        date = order_values["date"]
        return not (
            (self.partner_id and self.partner_id != order_values["partner_id"])
            or (self.tag_ids and not self.tag_ids & order_values["tag_ids"])
            or (self.pricelist_id and self.pricelist_id != order_values["pricelist_id"])
            or (self.team_id and self.team_id != order_values["team_id"])
            or (self.date_start and (not date or date < self.date_start))
            or (self.date_end and (not date or date > self.date_end))
        )

    def matches_order(self, order_values):
        """Whether every order-level condition holds for an order: those on the
        customer, and the payment terms and method it was quoted with."""
        return (
            self.matches_customer(order_values)
            and not (
                self.payment_term_id
                and self.payment_term_id != order_values["payment_term_id"]
            )
            and not (
                self.payment_method_line_id
                and self.payment_method_line_id
                != order_values["payment_method_line_id"]
            )
        )

    def matches_line(self, product_id, product_tmpl_id, categ_ids, quantity):
        """Whether the line-level conditions hold; ``categ_ids`` holds the product's
        category and all its parents, ``quantity`` is in the product's unit."""
        return not (
            (self.product_id and self.product_id != product_id)
            or (self.product_tmpl_id and self.product_tmpl_id != product_tmpl_id)
            or (self.categ_id and self.categ_id not in categ_ids)
            or (
                self.min_quantity
                and quantity is not None
                and quantity < self.min_quantity
            )
        )

    def concerns_products(self, products):
        """Whether the rule's product conditions hold for one of ``products``,
        given as (product id, template id, category ids), whatever the
        quantity: an offer on them may be shown to the customer."""
        return any(
            self.matches_line(product_id, product_tmpl_id, categ_ids, None)
            for product_id, product_tmpl_id, categ_ids in products
        ) or not (self.product_id or self.product_tmpl_id or self.categ_id)


class EngineRuleIndex:
    """The rules of one company whose order-level conditions hold for one order,
    indexed by the product condition that selects them."""

    __slots__ = ("by_categ", "by_product", "by_template", "generic")

    def __init__(self, rules, order_values):
        self.by_product = defaultdict(list)
        self.by_template = defaultdict(list)
        self.by_categ = defaultdict(list)
        self.generic = []
        for rule in rules:
            if not rule.matches_order(order_values):
                continue
            if rule.product_id:
                self.by_product[rule.product_id].append(rule)
            elif rule.product_tmpl_id:
                self.by_template[rule.product_tmpl_id].append(rule)
            elif rule.categ_id:
                self.by_categ[rule.categ_id].append(rule)
            else:
                self.generic.append(rule)

    def matching_rules(self, product_id, product_tmpl_id, categ_ids, quantity):
        """The rules that apply to a line, in evaluation order."""
        candidates = list(self.generic)
        if product_id in self.by_product:
            candidates += self.by_product[product_id]
        if product_tmpl_id in self.by_template:
            candidates += self.by_template[product_tmpl_id]
        for categ_id in categ_ids:
            if categ_id in self.by_categ:
                candidates += self.by_categ[categ_id]
        candidates.sort(key=lambda rule: rule.position)
        return [
            rule
            for rule in candidates
            if rule.matches_line(product_id, product_tmpl_id, categ_ids, quantity)
        ]


class EnginePromise:
    """A promise reduced to plain values, matched in memory by the engine."""

    __slots__ = (
        "categ_id",
        "date_end",
        "date_start",
        "discount_percent",
        "fixed_price",
        "id",
        "lead_id",
        "lead_name",
        "min_quantity",
        "name",
        "partner_id",
        "payment_term_id",
        "product_id",
        "promise_type",
    )

    def __init__(self, promise):
        self.id = promise.id
        self.name = promise.name
        self.partner_id = promise.partner_id.id
        self.lead_id = promise.lead_id.id
        self.lead_name = promise.lead_id.name or ""
        self.promise_type = promise.promise_type
        self.discount_percent = promise.discount_percent
        self.fixed_price = promise.fixed_price
        self.payment_term_id = promise.payment_term_id.id
        self.product_id = promise.product_id.id
        self.categ_id = promise.categ_id.id
        self.min_quantity = promise.min_quantity
        self.date_start = promise.date_start
        self.date_end = promise.date_end

    def matches_order(self, order_values):
        """Whether the promise was made to the order's customer or on its
        opportunity, and holds on the order's date."""
        date = order_values["date"]
        return (
            self.partner_id == order_values["partner_id"]
            or (self.lead_id and self.lead_id == order_values.get("opportunity_id"))
        ) and not (
            (self.date_start and (not date or date < self.date_start))
            or (self.date_end and (not date or date > self.date_end))
        )

    def matches_line(self, product_id, categ_ids, quantity):
        """Whether the promise covers a line: its product or category, from its
        minimum quantity (``quantity`` in the product's unit)."""
        return not (
            (self.product_id and self.product_id != product_id)
            or (self.categ_id and self.categ_id not in categ_ids)
            or (self.min_quantity and quantity < self.min_quantity)
        )
