import re
from datetime import datetime

import polib

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

from .common import QuoteProcessCommon
from .test_followup import TestFollowupCommon

POT = "quote_process/i18n/quote_process.pot"
ZH_CN = "quote_process/i18n/zh_CN.po"
# Placeholders and template expressions a translation must keep unchanged.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\{.*?\}\}|\bt-[\w-]+=\"[^\"]*\"")
REGENERATE = (
    "Regenerate the template on a database with the addon and its demo data "
    "installed (`odoo i18n export -d <db> quote_process`), merge it "
    "(`msgmerge --update --no-fuzzy-matching --backup=none "
    "quote_process/i18n/zh_CN.po quote_process/i18n/quote_process.pot`), then "
    "translate every empty msgstr."
)


def load_zh_cn(env):
    """Load the addon's Simplified Chinese translations as Odoo installs them;
    return an environment in that language."""
    env["res.lang"]._activate_lang("zh_CN")
    env["ir.module.module"]._load_module_terms(
        ["quote_process"], ["zh_CN"], overwrite=True
    )
    return env(context=dict(env.context, lang="zh_CN"))


@tagged("post_install", "-at_install")
class TestI18nFiles(QuoteProcessCommon):
    """The template lists every term, and zh_CN.po translates all of them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pot = polib.pofile(file_path(POT))
        cls.po = polib.pofile(file_path(ZH_CN))

    def test_pot_lists_every_current_term(self):
        reader = TranslationModuleReader(self.env.cr, modules=["quote_process"])
        current = {
            source
            for module, _type, _name, _res_id, source, _value, _comments in reader
            if module == "quote_process"
        }
        self.assertTrue(current, "the exporter found no term at all")
        missing = sorted(current - {entry.msgid for entry in self.pot})
        self.assertFalse(
            missing,
            f"{len(missing)} translatable terms are missing from {POT}: "
            f"{missing[:10]}. {REGENERATE}",
        )

    def test_every_msgid_translated(self):
        translated = {
            entry.msgid
            for entry in self.po
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags
        }
        missing = [e.msgid for e in self.pot if e.msgid not in translated]
        self.assertFalse(
            missing,
            f"{len(missing)} terms of {POT} have no Chinese translation in "
            f"{ZH_CN}: {missing[:10]}. {REGENERATE}",
        )

    def test_translations_keep_placeholders(self):
        for entry in self.po.translated_entries():
            with self.subTest(msgid=entry.msgid[:60]):
                self.assertEqual(
                    sorted(PLACEHOLDER.findall(entry.msgstr)),
                    sorted(PLACEHOLDER.findall(entry.msgid)),
                    "a translation must keep every placeholder and expression",
                )
                if "odoo-python" in (entry.comment or "") and "%(" in entry.msgid:
                    rest = re.sub(r"%%|%\(\w+\)[sdf]", "", entry.msgstr)
                    self.assertNotIn("%", rest, "write a literal percent as %%")

    def test_po_header(self):
        self.assertEqual(self.po.metadata.get("Language"), "zh_CN")
        self.assertIn("charset=UTF-8", self.po.metadata["Content-Type"])


@tagged("post_install", "-at_install")
class TestI18nZhCN(QuoteProcessCommon):
    """What a salesperson working in Simplified Chinese sees."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env_zh = load_zh_cn(cls.env)

    def test_field_label_and_help(self):
        field = self.env_zh["sale.order.line"].fields_get(
            ["deviation_percent"], ["string", "help"]
        )["deviation_percent"]
        self.assertEqual(field["string"], "偏差（%）")
        self.assertIn("引擎价格", field["help"])
        field = self.env_zh["sale.order"].fields_get(["response_deadline"], ["string"])
        self.assertEqual(field["response_deadline"]["string"], "响应期限")

    def test_selection_values(self):
        selection = dict(
            self.env_zh["sale.order"].fields_get(["approval_state"], ["selection"])[
                "approval_state"
            ]["selection"]
        )
        self.assertEqual(selection["pending"], "等待审批")
        self.assertEqual(selection["approved"], "已批准")
        categories = dict(
            self.env_zh["crm.lost.reason"].fields_get(["category"], ["selection"])[
                "category"
            ]["selection"]
        )
        self.assertEqual(categories["price"], "价格")

    def test_data_menus_and_views(self):
        self.assertEqual(
            self.env_zh.ref("quote_process.lost_reason_price_higher").name,
            "我方价格高于竞争对手",
        )
        self.assertEqual(
            self.env_zh.ref("quote_process.deviation_reason_competitor").name,
            "匹配竞争对手价格",
        )
        self.assertEqual(
            self.env_zh.ref("quote_process.menu_quote_process_config").name,
            "报价过程管理",
        )
        arch = self.env_zh["sale.order"].get_view(view_type="form")["arch"]
        self.assertIn("申请审批", arch)
        self.assertIn("价格已由", arch)
        self.assertNotIn("Request Approval", arch)

    def test_error_message_in_chinese(self):
        with self.assertRaisesRegex(ValidationError, "价格偏差容差.*150"):
            self.company.with_env(self.env_zh).write({"quote_deviation_tolerance": 150})
        # a literal percent sign survives the formatting of a translated message
        with self.assertRaisesRegex(ValidationError, "降低超过 100%。"):
            self.env_zh["quote.pricing.rule"].create(
                {
                    "name": "Too generous",
                    "adjustment_type": "percent",
                    "adjustment_value": -150,
                }
            )

    def test_error_message_in_english_unchanged(self):
        with self.assertRaisesRegex(ValidationError, "price deviation tolerance"):
            self.company.with_context(lang="en_US").write(
                {"quote_deviation_tolerance": 150}
            )


@tagged("post_install", "-at_install")
class TestI18nFollowupMail(TestFollowupCommon):
    """Reminders reach a Chinese-speaking salesperson in Chinese."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_zh_cn(cls.env)
        cls.salesman.lang = "zh_CN"
        cls.leader.lang = "zh_CN"

    def test_reminder_in_chinese(self):
        order = self._sent_quote()
        self._run_cron(datetime(2025, 3, 13, 9, 0))
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "sale.order"),
                ("res_id", "=", order.id),
                ("recipient_ids", "in", self.salesman.partner_id.ids),
                ("subject", "=like", "请跟进 %"),
            ]
        )
        self.assertEqual(len(mail), 1)
        self.assertFalse(self._mails_to(order, self.salesman), "no English reminder")
        self.assertEqual(
            mail.subject, f"请跟进 {self.followup_customer.name} 的报价单 {order.name}"
        )
        self.assertIn("天无人跟进", mail.body_html)
        self.assertIn("响应期限", mail.body_html)
        self.assertIn("查看报价单", mail.body_html)
        self.assertIn(order.name, mail.body_html)
        self.assertNotIn("Nobody has followed up", mail.body_html)
        self.assertEqual(self._todos(order, self.salesman).summary, "跟进客户")

    def test_escalation_rendered_in_chinese(self):
        order = self._sent_quote()
        template = self.env.ref("quote_process.mail_template_quote_followup_escalation")
        subject = template._render_field("subject", order.ids, compute_lang=True)
        self.assertEqual(
            subject[order.id],
            f"{self.followup_customer.name} 的报价单 {order.name} 无人跟进",
        )
        body = template._render_field("body_html", order.ids, compute_lang=True)
        self.assertIn(f"您团队“{self.team.name}”的报价单", body[order.id])
        self.assertIn(f"提醒其销售人员 {self.salesman.name}", body[order.id])
