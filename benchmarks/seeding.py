"""SQL helpers of the benchmarks that clone quotations in bulk."""


def columns(cr, table, exclude=("id",)):
    """The columns of ``table``, but ``exclude``, in the table's order."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
        " ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cr.fetchall() if row[0] not in exclude]


def store_main_products(cr, order_ids):
    """What the ORM stores on each cloned quotation from its lines
    (``sale.order.quote_main_product_id``): the product of its largest line."""
    cr.execute(
        """UPDATE sale_order o SET quote_main_product_id = main.product_id
             FROM (SELECT DISTINCT ON (order_id) order_id, product_id
                     FROM sale_order_line
                    WHERE order_id = ANY(%(orders)s)
                      AND display_type IS NULL
                      AND is_downpayment IS NOT TRUE
                      AND product_id IS NOT NULL
                    ORDER BY order_id, price_subtotal DESC, id) main
            WHERE main.order_id = o.id""",
        {"orders": list(order_ids)},
    )
