"""Deviation bands: how far a price went from the engine price, in classes.

One definition for the quote analysis and the price guidance of quote lines,
so that both always put a deviation in the same band.
"""

# Upper bound of each band below the engine price, as a discount in percent:
# exactly 5% below is in "below_5", 5.01% below in "below_10".
BELOW_BANDS = [
    ("below_5", 5),
    ("below_10", 10),
    ("below_20", 20),
]
# the bands in their order, with their labels (fields' selections, translated)
DEVIATION_BANDS = [
    ("above", "Above the engine price"),
    ("tolerance", "At the engine price"),
    ("below_5", "0–5% below"),
    ("below_10", "5–10% below"),
    ("below_20", "10–20% below"),
    ("below_more", "Over 20% below"),
]
BAND_KEYS = [key for key, _label in DEVIATION_BANDS]


def deviation_band_sql(below, above, tolerance):
    """SQL expression of the band of a price.

    :param below: SQL expression: how far below the engine price the price goes,
        as a positive percentage (0 or less when it is not below)
    :param above: SQL expression: how far above the engine price it goes, as a
        positive percentage (0 or less when it is not above)
    :param tolerance: SQL expression: the company's tolerance in percent
    """
    below = f"ROUND(({below})::numeric, 2)"
    above = f"ROUND(({above})::numeric, 2)"
    below_cases = " ".join(
        f"WHEN {below} <= {limit} THEN '{key}'" for key, limit in BELOW_BANDS
    )
    return f"""CASE
            WHEN {below} > ({tolerance}) THEN
                CASE {below_cases} ELSE 'below_more' END
            WHEN {above} > ({tolerance}) THEN 'above'
            ELSE 'tolerance'
        END"""
