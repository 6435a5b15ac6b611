import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { usePopover } from "@web/core/popover/popover_hook";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The details of a quote line's price guidance: how quotes of the product
 * (else its category) fared, band by band.
 */
export class PriceGuidancePopover extends Component {
    static template = "quote_process.PriceGuidancePopover";
    static props = {
        guidance: Object,
        close: { type: Function, optional: true },
    };
}

/**
 * Price guidance of a quote line: the win rate of the quotes behind it, with
 * the details in a popover. Computed on the server from decided quotes; it
 * shows figures only, never another salesperson's quotes.
 */
export class PriceGuidanceField extends Component {
    static template = "quote_process.PriceGuidanceField";
    static props = { ...standardFieldProps };

    setup() {
        this.popover = usePopover(PriceGuidancePopover, { position: "left" });
    }

    get guidance() {
        return this.props.record.data[this.props.name] || false;
    }

    toggle(ev) {
        if (this.popover.isOpen) {
            this.popover.close();
        } else {
            this.popover.open(ev.currentTarget, { guidance: this.guidance });
        }
    }
}

export const priceGuidanceField = {
    component: PriceGuidanceField,
    displayName: _t("Price Guidance"),
    supportedTypes: ["json"],
};

registry.category("fields").add("quote_price_guidance", priceGuidanceField);
