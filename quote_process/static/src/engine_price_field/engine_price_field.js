import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { usePopover } from "@web/core/popover/popover_hook";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FloatField, floatField } from "@web/views/fields/float/float_field";

/**
 * The engine's explanation of a quote line's price, one step per row.
 */
export class EngineTracePopover extends Component {
    static template = "quote_process.EngineTracePopover";
    static props = {
        steps: { type: Array, element: String },
        close: { type: Function, optional: true },
    };
}

/**
 * Engine price of a quote line, with a button that opens the engine's
 * explanation of how the price was reached. The explanation is asked from
 * the server when the button is clicked, for the line as the form holds it
 * (saved or not): loading and changing a quote does not compose it for
 * every line.
 */
export class EnginePriceField extends FloatField {
    static template = "quote_process.EnginePriceField";

    setup() {
        super.setup();
        this.orm = useService("orm");
        this.popover = usePopover(EngineTracePopover, { position: "left" });
    }

    get hasTrace() {
        const data = this.props.record.data;
        const steps = data.engine_steps;
        return Boolean(data.is_engine_priced && steps && steps.steps && steps.steps.length);
    }

    async toggleTrace(ev) {
        if (this.popover.isOpen) {
            this.popover.close();
            return;
        }
        const target = ev.currentTarget;
        const data = this.props.record.data;
        const steps = await this.orm.call("sale.order.line", "get_engine_trace_display", [
            {
                engine_steps: data.engine_steps,
                engine_price_unit: data.engine_price_unit,
                currency_id: data.currency_id && data.currency_id.id,
                company_id: data.company_id && data.company_id.id,
            },
        ]);
        if (target.isConnected) {
            this.popover.open(target, { steps });
        }
    }
}

export const enginePriceField = {
    ...floatField,
    component: EnginePriceField,
    displayName: _t("Engine Price with Explanation"),
    supportedTypes: ["float"],
    fieldDependencies: [
        { name: "engine_steps", type: "json", readonly: true },
        // stored: read with the lines, not computed again on every line of a
        // quote for each change made in its form
        { name: "is_engine_priced", type: "boolean", readonly: true },
        { name: "currency_id", type: "many2one", relation: "res.currency", readonly: true },
        { name: "company_id", type: "many2one", relation: "res.company", readonly: true },
    ],
};

registry.category("fields").add("quote_engine_price", enginePriceField);
