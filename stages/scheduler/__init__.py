"""Continuous archiving: consecutive windows submitted as exports, from a watermark kept in Kafka."""
