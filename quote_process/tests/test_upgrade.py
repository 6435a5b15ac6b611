"""What an upgrade (-u quote_process) must not overwrite: the records admins
adjust are noupdate, and the company settings are plain stored fields. The
full install, change, upgrade, uninstall cycle is scripts/check_upgrade.sh."""

from odoo.tests import TransactionCase, tagged

# Records an administrator may adjust: an upgrade must keep their changes.
ADMIN_ADJUSTED_MODELS = (
    "ir.cron",
    "mail.template",
    "mail.activity.type",
    "quote.discount.authority",
    "quote.deviation.reason",
    "crm.lost.reason",
)

COMPANY_SETTINGS = (
    "quote_followup_days",
    "quote_escalation_days",
    "quote_response_days",
    "quote_deviation_tolerance",
    "quote_conflict_policy",
    "quote_remind_preexisting",
)


@tagged("post_install", "-at_install")
class TestUpgradeSafety(TransactionCase):
    def test_admin_adjusted_records_are_noupdate(self):
        data = self.env["ir.model.data"].search(
            [("module", "=", "quote_process"), ("model", "in", ADMIN_ADJUSTED_MODELS)]
        )
        self.assertTrue(
            {"ir.cron", "mail.template", "quote.discount.authority"}
            <= set(data.mapped("model"))
        )
        updatable = ", ".join(
            f"{d.module}.{d.name}" for d in data.filtered(lambda d: not d.noupdate)
        )
        self.assertFalse(
            updatable, f"An upgrade would overwrite the admins' changes to: {updatable}"
        )

    def test_company_settings_are_stored_fields(self):
        Company = self.env["res.company"]
        Settings = self.env["res.config.settings"]
        for fname in COMPANY_SETTINGS:
            with self.subTest(field=fname):
                field = Company._fields[fname]
                self.assertTrue(field.store)
                self.assertFalse(field.compute)
                setting = Settings._fields.get(fname)
                if setting:
                    self.assertEqual(setting.related, f"company_id.{fname}")
                    self.assertFalse(setting.readonly)

    def test_existing_companies_keep_their_settings(self):
        """The defaults only fill new companies: writing a setting, then
        creating a company, leaves the first company as set."""
        company = self.env.company
        company.write({"quote_followup_days": 3, "quote_deviation_tolerance": 2.0})
        self.env["res.company"].create({"name": "Upgrade Co"})
        self.assertEqual(company.quote_followup_days, 3)
        self.assertEqual(company.quote_deviation_tolerance, 2.0)
