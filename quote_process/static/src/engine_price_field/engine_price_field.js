import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { usePopover } from "@web/core/popover/popover_hook";
import { registry } from "@web/core/registry";
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
 * explanation of how the price was reached.
 */
export class EnginePriceField extends FloatField {
    static template = "quote_process.EnginePriceField";

    setup() {
        super.setup();
        this.popover = usePopover(EngineTracePopover, { position: "left" });
    }

    get trace() {
        return this.props.record.data.engine_trace || "";
    }

    get steps() {
        return this.trace.split("\n").filter((step) => step.trim());
    }

    toggleTrace(ev) {
        if (this.popover.isOpen) {
            this.popover.close();
        } else {
            this.popover.open(ev.currentTarget, { steps: this.steps });
        }
    }
}

export const enginePriceField = {
    ...floatField,
    component: EnginePriceField,
    displayName: _t("Engine Price with Explanation"),
    supportedTypes: ["float"],
    fieldDependencies: [{ name: "engine_trace", type: "text", readonly: true }],
};

registry.category("fields").add("quote_engine_price", enginePriceField);
