from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import QuoteProcessCommon

ROLES = ("portal", "salesman", "salesman_all", "sales_manager", "other_company")

# One line per model the addon adds: the operations each role may perform on a
# record of its own company (c)reate, (r)ead, (w)rite, (d)elete. The last
# column is the user of another company (a sales manager there) acting on a
# record of this company: the company rules must refuse it for models with a
# company; deviation reasons are one list shared by all companies, like CRM's
# lost reasons. A new model gets a line here.
ACCESS_MATRIX = {
    #                               portal salesman salesman_all manager other co.
    "quote.pricing.rule": ("", "r", "r", "crwd", ""),
    "quote.deviation.reason": ("", "r", "r", "crwd", "rwd"),
    "quote.discount.authority": ("", "r", "r", "crwd", ""),
    "quote.analysis": ("", "r", "r", "r", ""),
    "quote.lost.wizard": ("", "crw", "crw", "crw", None),
    "quote.response.wizard": ("", "crwd", "crwd", "crwd", None),
    "quote.approval.reject.wizard": ("", "crw", "crw", "crw", None),
    "quote.promise": ("", "crw", "crw", "crwd", ""),
    "quote.version": ("", "r", "r", "r", ""),
    "quote.version.compare": ("", "crw", "crw", "crw", None),
    "quote.guidance.stat": ("", "", "", "r", ""),
}

OPERATIONS = {"c": "create", "r": "read", "w": "write", "d": "unlink"}


@tagged("post_install", "-at_install")
class TestSecurityMatrix(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="qp_portal", name="Pat Portal", groups="base.group_portal"
        )
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        cls.other_user = new_test_user(
            cls.env,
            login="qp_other_company",
            name="Otto Other",
            groups="sales_team.group_sale_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.users = {
            "portal": cls.portal_user,
            "salesman": cls.salesman,
            "salesman_all": cls.salesman_all,
            "sales_manager": cls.sales_manager,
            "other_company": cls.other_user,
        }
        cls.quote = cls.create_quote(cls.salesman)

    # records of this company, one per model, for the record-level checks
    def _record(self, model):
        env = self.env
        if model == "quote.pricing.rule":
            return env[model].create(
                {
                    "name": "Matrix Rule",
                    "adjustment_type": "percent",
                    "adjustment_value": -1,
                }
            )
        if model == "quote.deviation.reason":
            return env[model].create({"name": "Matrix Reason"})
        if model == "quote.discount.authority":
            return env.ref("quote_process.discount_authority_salesman")
        if model == "quote.analysis":
            self.env.flush_all()
            return env[model].search([("order_id", "=", self.quote.id)])
        if model == "quote.lost.wizard":
            return env[model].create(
                {
                    "order_ids": [Command.set(self.quote.ids)],
                    "lost_reason_id": env["crm.lost.reason"].search([], limit=1).id,
                }
            )
        if model == "quote.response.wizard":
            return env[model].create({"order_ids": [Command.set(self.quote.ids)]})
        if model == "quote.approval.reject.wizard":
            return env[model].create({"order_id": self.quote.id, "reason": "No"})
        if model == "quote.promise":
            # the salesman's promise: his own, seen by the other roles
            return env[model].create(
                {
                    "name": "Matrix Promise",
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "promise_type": "percent",
                    "discount_percent": 5.0,
                }
            )
        if model == "quote.version":
            self.quote.action_quotation_sent()
            return self.quote.version_ids
        if model == "quote.version.compare":
            self.quote.action_quotation_sent()
            version = self.quote.version_ids
            return env[model].create(
                {
                    "order_id": self.quote.id,
                    "version_from_id": version.id,
                    "version_to_id": version.id,
                }
            )
        if model == "quote.guidance.stat":
            return env[model].create(
                {
                    "company_id": self.company.id,
                    "scope": "product",
                    "res_id": self.product.id,
                    "band": "below_5",
                    "decided": 3,
                    "won": 1,
                }
            )
        raise AssertionError(f"no record factory for {model}")

    def test_every_model_is_in_the_matrix(self):
        models = self.env["ir.model"].search([("model", "=like", "quote.%")])
        added = {m.model for m in models if "quote_process" in m.modules.split(", ")}
        self.assertTrue(added)
        self.assertFalse(
            added - set(ACCESS_MATRIX),
            "Add a line to ACCESS_MATRIX for each new model",
        )

    def test_model_access_matrix(self):
        """ir.model.access: what each role may do on each model."""
        for model, rights in ACCESS_MATRIX.items():
            for role, allowed in zip(ROLES[:4], rights[:4], strict=True):
                user = self.users[role]
                for letter, operation in OPERATIONS.items():
                    with self.subTest(model=model, role=role, operation=operation):
                        self.assertEqual(
                            self.env[model].with_user(user).has_access(operation),
                            letter in allowed,
                        )

    def test_record_access_matrix(self):
        """Record rules: a record of this company, for each role, including the
        user of another company."""
        for model, rights in ACCESS_MATRIX.items():
            if self.env[model]._transient:
                continue  # test_wizards_are_private
            record = self._record(model)
            self.assertEqual(len(record), 1, model)
            for role, allowed in zip(ROLES, rights, strict=True):
                user = self.users[role]
                for letter, operation in OPERATIONS.items():
                    if letter == "c":
                        continue
                    with self.subTest(model=model, role=role, operation=operation):
                        self.assertEqual(
                            record.with_user(user).has_access(operation),
                            letter in allowed,
                        )

    def test_wizards_are_private(self):
        """A wizard belongs to the user who opened it: another user of the same
        role can neither read nor confirm it."""
        for model, rights in ACCESS_MATRIX.items():
            if not self.env[model]._transient:
                continue
            wizard = self._record(model)
            self.env.flush_all()
            self.env.cr.execute(
                f"UPDATE {wizard._table} SET create_uid = %s WHERE id = %s",
                [self.salesman_all.id, wizard.id],
            )
            wizard.invalidate_recordset()
            with self.subTest(model=model):
                self.assertEqual(rights[4], None)
                self.assertFalse(wizard.with_user(self.salesman).has_access("read"))
                self.assertTrue(wizard.with_user(self.salesman_all).has_access("read"))

    def test_rpc_refusals(self):
        """The refusals are real AccessErrors on the RPC path."""
        rule = self._record("quote.pricing.rule")
        with self.assertRaises(AccessError):
            rule.with_user(self.salesman).write({"adjustment_value": -50})
        with self.assertRaises(AccessError):
            rule.with_user(self.salesman_all).unlink()
        with self.assertRaises(AccessError):
            rule.with_user(self.other_user).read(["name"])
        with self.assertRaises(AccessError):
            rule.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            self.env["quote.pricing.rule"].with_user(self.salesman).create(
                {"name": "Mine", "adjustment_type": "percent", "adjustment_value": -50}
            )
        with self.assertRaises(AccessError):
            self.env["quote.analysis"].with_user(self.sales_manager).create(
                {"order_id": self.quote.id}
            )
        analysis = self._record("quote.analysis")
        with self.assertRaises(AccessError):
            analysis.with_user(self.sales_manager).unlink()
        # other company: its rules and authorities exist but are its own
        self.assertFalse(
            self.env["quote.pricing.rule"]
            .with_user(self.other_user)
            .search([("id", "=", rule.id)])
        )
        other_authorities = (
            self.env["quote.discount.authority"].with_user(self.other_user).search([])
        )
        self.assertTrue(other_authorities)
        self.assertEqual(other_authorities.company_id, self.other_company)

    def test_analysis_own_documents(self):
        """A salesperson (own documents) sees the analysis of their own quotes
        only; all-documents users and managers see every quote."""
        other_quote = self.create_quote(self.salesman_all)
        self.env.flush_all()
        quotes = self.quote | other_quote
        Analysis = self.env["quote.analysis"]
        for user, expected in (
            (self.salesman, self.quote),
            (self.salesman_all, quotes),
            (self.sales_manager, quotes),
            (self.other_user, self.env["sale.order"]),
        ):
            with self.subTest(user=user.login):
                rows = Analysis.with_user(user).search([("order_id", "in", quotes.ids)])
                self.assertEqual(rows.order_id, expected)

    def test_approval_fields_protected_for_every_role(self):
        """Approval fields are set by the approval actions only, whatever the
        role: even a manager approves with the button."""
        fields_values = {
            "approval_request_state": False,
            "approval_requested_by_id": self.sales_manager.id,
            "approved_by_id": self.sales_manager.id,
            "approved_date": "2026-01-01 00:00:00",
            "approved_deviation_percent": 99.0,
        }
        for role in ("salesman", "salesman_all", "sales_manager"):
            user = self.users[role]
            quote = self.quote.with_user(user)
            for fname, value in fields_values.items():
                with self.subTest(role=role, field=fname):
                    with self.assertRaises(AccessError):
                        quote.write({fname: value})
                    with self.assertRaises(AccessError):
                        self.env["sale.order"].with_user(user).create(
                            {"partner_id": self.customer.id, fname: value}
                        )
        self.assertFalse(self.quote.approved_by_id)

    def test_authority_fields_protected(self):
        """Only sales managers change discount authorities; only settings
        administrators change the company's tolerance."""
        authority = self.env.ref("quote_process.discount_authority_salesman")
        for role in ("portal", "salesman", "salesman_all", "other_company"):
            user = self.users[role]
            for vals in (
                {"max_deviation_percent": 100.0},
                {"group_id": self.env.ref("base.group_user").id},
                {"company_id": self.other_company.id},
            ):
                with self.subTest(role=role, vals=vals), self.assertRaises(AccessError):
                    authority.with_user(user).write(vals)
        with self.assertRaises(AccessError):
            self.env["quote.discount.authority"].with_user(self.salesman_all).create(
                {
                    "group_id": self.env.ref("sales_team.group_sale_salesman").id,
                    "max_deviation_percent": 100.0,
                }
            )
        self.assertEqual(authority.max_deviation_percent, 5.0)
        for role in ("salesman", "salesman_all", "sales_manager"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.company.with_user(self.users[role]).write(
                    {"quote_deviation_tolerance": 100.0}
                )
        self.assertEqual(self.company.quote_deviation_tolerance, 0.5)
        authority.with_user(self.sales_manager).write({"max_deviation_percent": 6.0})
        self.assertEqual(authority.max_deviation_percent, 6.0)

    def test_server_computed_fields_ignore_client_values(self):
        """The engine price, the deviation and the approval state are computed
        on the server: values sent by a client are ignored."""
        reason = self.env.ref("quote_process.deviation_reason_competitor")
        quote = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "max_deviation_percent": 0.0,
                    "approval_state": "approved",
                    "quote_discount_amount": 0.0,
                    "quote_main_product_id": False,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "price_unit": 80.0,
                                "engine_price_unit": 80.0,
                                "deviation_percent": 0.0,
                                "is_engine_priced": False,
                                "deviation_reason_id": reason.id,
                                "deviation_note": "Competitor",
                            }
                        )
                    ],
                }
            )
        )
        line = quote.order_line
        self.assertAlmostEqual(line.engine_price_unit, 100.0)
        self.assertAlmostEqual(line.deviation_percent, -20.0)
        self.assertEqual(quote.approval_state, "required")
        self.assertTrue(line.is_engine_priced)
        self.assertAlmostEqual(quote.quote_discount_amount, 20.0)
        self.assertEqual(quote.quote_main_product_id, self.product)
        # a line that claimed not to be engine-priced would escape the
        # deviation, the reason and the approval
        line.write(
            {
                "deviation_percent": 0.0,
                "engine_price_unit": 80.0,
                "is_engine_priced": False,
            }
        )
        quote.write(
            {
                "max_deviation_percent": 0.0,
                "approval_state": "approved",
                "quote_discount_amount": 0.0,
                "quote_deviation_above": 50.0,
                "quote_main_product_id": False,
            }
        )
        self.env.flush_all()
        quote.invalidate_recordset()
        line.invalidate_recordset()
        self.assertTrue(line.is_engine_priced)
        self.assertAlmostEqual(line.deviation_percent, -20.0)
        self.assertAlmostEqual(quote.max_deviation_percent, 20.0)
        self.assertAlmostEqual(quote.quote_discount_amount, 20.0)
        self.assertAlmostEqual(quote.quote_deviation_above, 0.0)
        self.assertEqual(quote.quote_main_product_id, self.product)
        self.assertEqual(quote.approval_state, "required")
        self.assertTrue(quote._quote_blocking_approval())
