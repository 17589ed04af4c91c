"""The sales domain's contract: the warehouse tables it reads (sales, and the product
catalogue). The queries (storage.py) and the sample-data generator (user_code/sample_data.py)
import them."""

import sqlalchemy as sa

metadata = sa.MetaData()
products_table = sa.Table(
    "products",
    metadata,
    sa.Column("product_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
)
sales_table = sa.Table(
    "sales",
    metadata,
    sa.Column("sale_id", sa.BigInteger, primary_key=True),
    sa.Column("date", sa.Date, nullable=False, index=True),
    sa.Column("product_id", sa.Text, nullable=False, index=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("revenue", sa.Numeric(12, 2), nullable=False),
)
SALES_COLUMNS = sales_table.columns.keys()
"""The columns of a sales frame (storage.sales_between), in the table's order."""
