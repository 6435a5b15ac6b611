import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { usePopover } from "@web/core/popover/popover_hook";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { batchedCall } from "@quote_process/batched_call/batched_call";

/**
 * Loads the price conflict warnings of quote lines: the widgets of one quote
 * ask together, in one call, once the lines are shown, and a line asks again
 * only when its product, price or customer changes. The warnings are not
 * kept beyond that: another quote of the customer may change meanwhile.
 */
export const priceConflictService = {
    dependencies: ["orm"],
    start(env, { orm }) {
        const call = batchedCall(orm, "sale.order.line", "get_price_conflict_display");
        return {
            load(request) {
                return call(request).catch(() => false);
            },
        };
    },
};

registry.category("services").add("quote_price_conflict", priceConflictService);

/**
 * The documents where the customer has the line's product at another price.
 */
export class PriceConflictPopover extends Component {
    static template = "quote_process.PriceConflictPopover";
    static props = {
        warning: String,
        close: { type: Function, optional: true },
    };
}

/**
 * A warning beside a quote line's price when the customer has its product at
 * another price in another open quotation or a recently confirmed order; the
 * documents and their prices in a popover.
 */
export class PriceConflictWidget extends Component {
    static template = "quote_process.PriceConflictWidget";
    static props = { ...standardWidgetProps };

    setup() {
        this.loader = useService("quote_price_conflict");
        this.popover = usePopover(PriceConflictPopover, { position: "left" });
        this.state = useState({ warning: false });
        this.key = null;
        onWillStart(() => this.load(this.props.record));
        onWillUpdateProps((nextProps) => this.load(nextProps.record));
    }

    load(record) {
        const line = record.data;
        // the quote whose form shows the line
        const order = record.model.root;
        if (order.resModel !== "sale.order") {
            this.state.warning = false;
            return;
        }
        const { partner_id, company_id, currency_id, state } = order.data;
        const request = {
            id: record.resId || false,
            product_id: line.product_id ? line.product_id.id : false,
            price_unit: line.price_unit,
            discount: line.discount,
            order_id: order.resId || false,
            partner_id: partner_id ? partner_id.id : false,
            company_id: company_id ? company_id.id : false,
            currency_id: currency_id ? currency_id.id : false,
        };
        const key = JSON.stringify(request);
        if (key === this.key) {
            return;
        }
        this.key = key;
        if (
            !request.product_id ||
            !request.partner_id ||
            !line.is_engine_priced ||
            !["draft", "sent"].includes(state)
        ) {
            this.state.warning = false;
            return;
        }
        // shown when it arrives: the lines do not wait for it
        this.loader.load(request).then((warning) => {
            if (this.key === key) {
                this.state.warning = warning;
            }
        });
    }

    toggle(ev) {
        if (this.popover.isOpen) {
            this.popover.close();
        } else {
            this.popover.open(ev.currentTarget, { warning: this.state.warning });
        }
    }
}

export const priceConflictWidget = {
    component: PriceConflictWidget,
    fieldDependencies: [
        { name: "product_id", type: "many2one" },
        { name: "price_unit", type: "float" },
        { name: "discount", type: "float" },
        // stored: read with the lines (the engine price's widget reads it too)
        { name: "is_engine_priced", type: "boolean", readonly: true },
    ],
};

registry.category("view_widgets").add("quote_price_conflict", priceConflictWidget);
