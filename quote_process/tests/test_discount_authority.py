from psycopg2.errors import UniqueViolation

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import QuoteProcessCommon


@tagged("post_install", "-at_install")
class TestDiscountAuthority(QuoteProcessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Authority = cls.env["quote.discount.authority"]

    def test_default_authorities(self):
        authority = self.Authority._get_user_authority
        self.assertEqual(authority(self.salesman, self.company), 5.0)
        self.assertEqual(authority(self.salesman_all, self.company), 10.0)
        # Implied groups count: the manager is also a salesperson; the largest wins.
        self.assertEqual(authority(self.sales_manager, self.company), 30.0)

    def test_new_company_gets_defaults(self):
        company = self.env["res.company"].create({"name": "Authority Co"})
        authorities = self.Authority.search([("company_id", "=", company.id)])
        self.assertEqual(
            sorted(authorities.mapped("max_deviation_percent")), [5.0, 10.0, 30.0]
        )

    def test_largest_group_wins(self):
        group = self.env["res.groups"].create({"name": "Key Account Managers"})
        self.Authority.create(
            {
                "group_id": group.id,
                "max_deviation_percent": 15.0,
                "company_id": self.company.id,
            }
        )
        self.salesman.group_ids |= group
        self.assertEqual(
            self.Authority._get_user_authority(self.salesman, self.company), 15.0
        )
        approvers = self.Authority._get_users_with_authority(12.0, self.company)
        self.assertIn(self.salesman, approvers)
        self.assertIn(self.sales_manager, approvers)
        self.assertNotIn(self.salesman_all, approvers)

    def test_bounds(self):
        authority = self.env.ref("quote_process.discount_authority_salesman")
        for value in (-1, 100.01):
            with self.subTest(value=value), self.assertRaises(ValidationError):
                authority.max_deviation_percent = value

    def test_one_authority_per_group_and_company(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.Authority.create(
                {
                    "group_id": self.env.ref("sales_team.group_sale_salesman").id,
                    "max_deviation_percent": 50,
                    "company_id": self.company.id,
                }
            )

    def test_salesman_cannot_change_authorities(self):
        authority = self.env.ref("quote_process.discount_authority_salesman")
        as_salesman = authority.with_user(self.salesman)
        self.assertEqual(as_salesman.max_deviation_percent, 5.0)
        with self.assertRaises(AccessError):
            as_salesman.write({"max_deviation_percent": 50})
        with self.assertRaises(AccessError):
            self.Authority.with_user(self.salesman).create(
                {
                    "group_id": self.env.ref("sales_team.group_sale_salesman").id,
                    "max_deviation_percent": 50,
                    "company_id": self.company.id,
                }
            )
        with self.assertRaises(AccessError):
            as_salesman.unlink()

    def test_manager_manages_authorities(self):
        authority = self.env.ref("quote_process.discount_authority_salesman")
        authority.with_user(self.sales_manager).max_deviation_percent = 7
        self.assertEqual(authority.max_deviation_percent, 7)

    def test_company_isolation(self):
        other = self.env["res.company"].create({"name": "Isolated Co"})
        other_manager = new_test_user(
            self.env,
            login="qp_other_manager",
            groups="sales_team.group_sale_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        visible = self.Authority.with_user(other_manager).search([])
        self.assertTrue(visible)
        self.assertEqual(visible.company_id, other)
        # Authority in one company says nothing about another.
        self.Authority.search([("company_id", "=", other.id)]).write(
            {"max_deviation_percent": 1.0}
        )
        self.assertEqual(self.Authority._get_user_authority(other_manager, other), 1.0)
        self.assertEqual(
            self.Authority._get_user_authority(self.sales_manager, self.company), 30.0
        )


@tagged("post_install", "-at_install")
class TestDeviationReason(QuoteProcessCommon):
    def test_default_reasons(self):
        names = self.env["quote.deviation.reason"].search([]).mapped("name")
        for name in (
            "Competitor price match",
            "Volume deal",
            "Strategic customer",
            "Clearance",
            "Price error correction",
            "Other",
        ):
            self.assertIn(name, names)

    def test_salesman_reads_only(self):
        reason_model = self.env["quote.deviation.reason"].with_user(self.salesman)
        self.assertTrue(reason_model.search([]))
        with self.assertRaises(AccessError):
            reason_model.create({"name": "Because I can"})
        reason = self.env["quote.deviation.reason"].with_user(self.sales_manager)
        self.assertTrue(reason.create({"name": "Trade fair offer"}))
