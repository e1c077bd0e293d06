include $(sort $(wildcard $(BR2_EXTERNAL_CUTTLE_PATH)/package/*/*.mk))
