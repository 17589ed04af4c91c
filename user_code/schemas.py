"""The data contracts the pipelines read: the columns of an incoming orders CSV and the
warehouse's source tables. Defined here, once; the pipelines and the sample-data
generator (sample_data.py) import them."""

import sqlalchemy as sa

ORDER_COLUMNS = ["order_id", "date", "customer_id", "amount", "quantity"]
"""The columns every incoming orders CSV must have (others are ignored)."""

metadata = sa.MetaData()
products_table = sa.Table(
    "products", metadata,
    sa.Column("product_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
)
customers_table = sa.Table(
    "customers", metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("segment", sa.Text, nullable=False),
    sa.Column("lifetime_value", sa.Numeric(12, 2), nullable=False),
    sa.Column("signup_date", sa.Date, nullable=False),
)
sales_table = sa.Table(
    "sales", metadata,
    sa.Column("sale_id", sa.BigInteger, primary_key=True),
    sa.Column("date", sa.Date, nullable=False, index=True),
    sa.Column("product_id", sa.Text, nullable=False, index=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("revenue", sa.Numeric(12, 2), nullable=False),
)
