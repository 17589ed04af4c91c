"""The customers domain's contract: the warehouse table it reads. raw_customers (assets.py)
and the sample-data generator (user_code/sample_data.py) import it."""

import sqlalchemy as sa

metadata = sa.MetaData()
customers_table = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("segment", sa.Text, nullable=False),
    sa.Column("lifetime_value", sa.Numeric(12, 2), nullable=False),
    sa.Column("signup_date", sa.Date, nullable=False),
)
