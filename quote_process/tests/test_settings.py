from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestSettings(QuoteProcessCommon):
    def test_company_defaults(self):
        company = self.env["res.company"].create({"name": "Fresh Company"})
        self.assertEqual(company.quote_followup_days, 10)
        self.assertEqual(company.quote_escalation_days, 5)
        self.assertEqual(company.quote_response_days, 10)
        self.assertAlmostEqual(company.quote_deviation_tolerance, 0.5)
        self.assertEqual(company.quote_conflict_policy, "warn")

    def test_settings_form_writes_company(self):
        settings = Form(self.env["res.config.settings"].with_user(self.admin_user))
        settings.quote_followup_days = 7
        settings.quote_escalation_days = 3
        settings.quote_response_days = 14
        settings.quote_deviation_tolerance = 2.5
        settings.quote_conflict_policy = "block"
        settings.save().execute()
        self.assertEqual(self.company.quote_followup_days, 7)
        self.assertEqual(self.company.quote_escalation_days, 3)
        self.assertEqual(self.company.quote_response_days, 14)
        self.assertAlmostEqual(self.company.quote_deviation_tolerance, 2.5)
        self.assertEqual(self.company.quote_conflict_policy, "block")

    def test_negative_days_refused(self):
        for field_name in (
            "quote_followup_days",
            "quote_escalation_days",
            "quote_response_days",
        ):
            with self.subTest(field=field_name):
                with (
                    self.assertRaisesRegex(ValidationError, "negative number of days"),
                    self.env.cr.savepoint(),
                ):
                    self.company.write({field_name: -1})
                self.env.invalidate_all()
                self.assertGreaterEqual(self.company[field_name], 0)

    def test_zero_days_accepted(self):
        self.company.write({"quote_followup_days": 0, "quote_escalation_days": 0})
        self.assertEqual(self.company.quote_followup_days, 0)

    def test_tolerance_bounds(self):
        for value in (-0.01, 100.5, 250):
            with self.subTest(value=value):
                with self.assertRaisesRegex(ValidationError, "between 0 and 100"):
                    self.company.write({"quote_deviation_tolerance": value})
        for value in (0, 100, 12.5):
            self.company.write({"quote_deviation_tolerance": value})
            self.assertAlmostEqual(self.company.quote_deviation_tolerance, value)

    def test_settings_require_admin(self):
        """A salesperson cannot change company settings over RPC."""
        with self.assertRaises(AccessError):
            self.company.with_user(self.salesman).write({"quote_followup_days": 1})


@tagged("post_install", "-at_install")
class TestMenus(QuoteProcessCommon):
    def _visible(self, user, xmlid):
        menu = self.env.ref(xmlid)
        visible_ids = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return menu.id in visible_ids

    def test_config_menu_per_role(self):
        menu = "quote_process.menu_quote_process_config"
        self.assertFalse(self._visible(self.salesman, menu))
        self.assertFalse(self._visible(self.salesman_all, menu))
        self.assertTrue(self._visible(self.sales_manager, menu))
        self.assertTrue(self._visible(self.admin_user, menu))

    def test_settings_menu_only_for_admin(self):
        menu = "quote_process.menu_quote_process_settings"
        self.assertFalse(self._visible(self.sales_manager, menu))
        self.assertTrue(self._visible(self.admin_user, menu))

    def test_manager_opens_lost_reasons(self):
        action = self.env.ref("quote_process.menu_quote_lost_reason").action
        self.assertEqual(action.res_model, "crm.lost.reason")
        reasons = self.env["crm.lost.reason"].with_user(self.sales_manager).search([])
        self.assertTrue(reasons)
