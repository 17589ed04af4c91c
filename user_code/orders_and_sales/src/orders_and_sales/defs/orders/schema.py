"""The orders domain's contract: the columns of an incoming orders CSV. The pipeline
(logic.py) and the sample-data generator (user_code/sample_data.py) import it."""

ORDER_COLUMNS = ["order_id", "date", "customer_id", "amount", "quantity"]
"""The columns every incoming orders CSV must have (others are ignored)."""
