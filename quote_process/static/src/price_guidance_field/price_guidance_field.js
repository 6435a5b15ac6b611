import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { usePopover } from "@web/core/popover/popover_hook";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { batchedCall } from "@quote_process/batched_call/batched_call";

/**
 * Loads the price guidance of quote lines: the widgets of one quote ask
 * together, in one call, once the lines are shown; each answer is kept for
 * the page (the statistics behind it change once a day).
 */
export const priceGuidanceService = {
    dependencies: ["orm"],
    start(env, { orm }) {
        const answers = new Map();
        const call = batchedCall(orm, "sale.order.line", "get_price_guidance_display");
        return {
            load(productId, partnerId, companyId) {
                const key = `${productId}/${partnerId}/${companyId}`;
                if (!answers.has(key)) {
                    answers.set(
                        key,
                        call([productId, partnerId, companyId]).catch(() => {
                            // asked again next time
                            answers.delete(key);
                            return false;
                        })
                    );
                }
                return answers.get(key);
            },
        };
    },
};

registry.category("services").add("quote_price_guidance", priceGuidanceService);

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
 * Price guidance of a quote line, beside its price: the win rate of the
 * decided quotes behind it, the details in a popover. Figures only, never
 * another salesperson's quotes.
 */
export class PriceGuidanceWidget extends Component {
    static template = "quote_process.PriceGuidanceWidget";
    static props = { ...standardWidgetProps };

    setup() {
        this.loader = useService("quote_price_guidance");
        this.popover = usePopover(PriceGuidancePopover, { position: "left" });
        this.state = useState({ guidance: false });
        onWillStart(() => this.load(this.props.record));
        onWillUpdateProps((nextProps) => this.load(nextProps.record));
    }

    load(record) {
        const { product_id, order_partner_id, company_id, engine_price_unit } =
            record.data;
        if (!product_id || !(engine_price_unit > 0)) {
            this.state.guidance = false;
            return;
        }
        const request = this.loader.load(
            product_id.id,
            order_partner_id ? order_partner_id.id : false,
            company_id ? company_id.id : false
        );
        // shown when it arrives: the lines do not wait for it
        request.then((guidance) => {
            this.state.guidance = guidance;
        });
    }

    toggle(ev) {
        if (this.popover.isOpen) {
            this.popover.close();
        } else {
            this.popover.open(ev.currentTarget, { guidance: this.state.guidance });
        }
    }
}

export const priceGuidanceWidget = {
    component: PriceGuidanceWidget,
    fieldDependencies: [
        { name: "product_id", type: "many2one" },
        { name: "order_partner_id", type: "many2one" },
        { name: "company_id", type: "many2one" },
        { name: "engine_price_unit", type: "float" },
    ],
};

registry.category("view_widgets").add("quote_price_guidance", priceGuidanceWidget);
