import functools
import json
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestReadOnlyCalls(QuoteProcessCommon, HttpCase):
    """The calls that only read (the price guidance, the price explanation,
    the analysis and the lists opened from a record) are served on Odoo's
    read-only cursor: with ``db_replica_host`` set they run on the replica.
    In tests Odoo keeps a read-only pool on the primary and makes each
    read-only test cursor a READ ONLY transaction, so a call that wrote
    anything would fail here."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quote = cls.create_quote(user=cls.salesman)
        cls.line = cls.quote.order_line
        cls.rule = cls.env["quote.pricing.rule"].create(
            {
                "name": "Widgets 5% down",
                "product_id": cls.product.id,
                "adjustment_type": "percent",
                "adjustment_value": -5,
            }
        )
        cls.lost_reason = cls.env["crm.lost.reason"].search([], limit=1)

    def call(self, user, model, method, args, kwargs=None, route="call_kw"):
        """Call ``method`` as the web client does, as ``user``; return its
        result and whether it ran on a read-only cursor."""
        self.authenticate(user.login, user.login)
        cursors = []
        original = getattr(type(self.env[model]), method)

        @functools.wraps(original)
        def recording(records, *args, **kwargs):
            cursors.append(records.env.cr.readonly)
            return original(records, *args, **kwargs)

        with patch.object(type(self.env[model]), method, recording):
            response = self.url_open(
                f"/web/dataset/{route}/{model}.{method}",
                data=json.dumps(
                    {
                        "params": {
                            "model": model,
                            "method": method,
                            "args": args,
                            "kwargs": kwargs or {},
                        }
                    }
                ),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertNotIn("error", body, body.get("error"))
        self.assertEqual(len(cursors), 1)
        return body["result"], cursors[0]

    def test_guidance_and_explanation_on_the_read_only_cursor(self):
        result, readonly = self.call(
            self.salesman,
            "sale.order.line",
            "get_price_guidance_display",
            [[[self.product.id, self.customer.id, self.company.id]]],
        )
        self.assertEqual(len(result), 1)
        self.assertTrue(readonly)
        result, readonly = self.call(
            self.salesman,
            "sale.order.line",
            "get_engine_trace_display",
            [
                {
                    "engine_steps": self.line.engine_steps,
                    "engine_price_unit": self.line.engine_price_unit,
                    "currency_id": self.line.currency_id.id,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertTrue(result)
        self.assertTrue(readonly)

    def test_analysis_on_the_read_only_cursor(self):
        result, readonly = self.call(
            self.sales_manager,
            "quote.analysis",
            "formatted_read_group",
            [],
            {"domain": [], "groupby": ["outcome"], "aggregates": ["__count"]},
        )
        self.assertTrue(result)
        self.assertTrue(readonly)

    def test_lists_opened_from_a_record_on_the_read_only_cursor(self):
        for user, model, method, record in (
            (
                self.sales_manager,
                "crm.lost.reason",
                "action_lost_quotes",
                self.lost_reason,
            ),
            (
                self.sales_manager,
                "quote.pricing.rule",
                "action_view_priced_lines",
                self.rule,
            ),
            (self.salesman, "sale.order", "action_view_versions", self.quote),
        ):
            with self.subTest(method=method):
                action, readonly = self.call(
                    user, model, method, [record.ids], route="call_button"
                )
                self.assertEqual(action["type"], "ir.actions.act_window")
                self.assertTrue(readonly)

    def test_changes_stay_on_the_primary(self):
        """What changes data is served read/write: Mark as Sent records a
        version on the primary."""
        quote = self.create_quote(user=self.salesman)
        _result, readonly = self.call(
            self.salesman,
            "sale.order",
            "action_quotation_sent",
            [quote.ids],
            route="call_button",
        )
        self.assertFalse(readonly)
        self.assertEqual(quote.version_count, 1)
        version = quote.version_ids
        action, readonly = self.call(
            self.salesman,
            "quote.version",
            "action_open_attachment",
            [version.ids],
            route="call_button",
        )
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(readonly)
